// hls::stream for the bare-metal build of the hls4ml model (accel_hls4ml_qemu.cpp): on this
// folder's include path ahead of hls4ml's ap_types/, it replaces Xilinx's C simulation model of the
// stream (ap_types/hls_stream.h), which keeps a std::string name, a std::deque and a stringstream
// and calls typeid and abi::__cxa_demangle: all compiled libstdc++, which the firmware does not link.
//
// The same FIFO semantics as the C simulation model: unbounded (the C simulation runs the layers
// of a dataflow region one after the other, so a stream holds a whole tensor), read() of an empty
// stream returns T() (where the C simulation also prints a warning), full() is always false. The
// elements live in a ring buffer from malloc (newlib), constructed in place; the buffer doubles when
// full and is given back when a large one has been drained, so a network needs about the memory of
// the tensors alive at once rather than of all its streams.
#ifndef X_HLS_STREAM_SIM_H // the guard of Xilinx's file: only one of the two is ever read
#define X_HLS_STREAM_SIM_H
#ifndef __cplusplus
#error C++ is required to include this header file
#endif

#include <new> // placement new only (inline in the header)
#include <stddef.h>
#include <stdlib.h>

namespace hls {

template <typename T> class stream {
  public:
    stream() {}
    explicit stream(const char *) {} // the C simulation's name, for its messages only
    stream(const stream &) = delete;
    stream &operator=(const stream &) = delete;
    ~stream() {
        while (count_) pop();
        free(data_);
    }

    bool empty() { return count_ == 0; }
    bool full() const { return false; }
    size_t size() { return count_; }

    void write(const T &tail) {
        if (count_ == capacity_) grow();
        new (data_ + (head_ + count_) % capacity_) T(tail);
        ++count_;
    }
    T read() {
        T head;
        if (count_) {
            head = data_[head_];
            pop();
        } else {
            head = T();
        }
        return head;
    }
    void read(T &head) { head = read(); }
    bool read_nb(T &head) {
        bool ok = count_ != 0;
        head = ok ? read() : T();
        return ok;
    }
    bool write_nb(const T &tail) {
        write(tail);
        return true;
    }
    void operator>>(T &head) { read(head); }
    void operator<<(const T &tail) { write(tail); }

  private:
    enum { kept_bytes = 4096 }; // a drained buffer up to this size is kept for the next tensor

    T *data_ = nullptr;
    size_t capacity_ = 0, head_ = 0, count_ = 0;

    void pop() {
        data_[head_].~T();
        head_ = (head_ + 1) % capacity_;
        if (--count_ == 0 && capacity_ * sizeof(T) > kept_bytes) {
            free(data_);
            data_ = nullptr;
            capacity_ = head_ = 0;
        }
    }
    void grow() {
        size_t capacity = capacity_ ? 2 * capacity_ : 16;
        T *data = static_cast<T *>(malloc(capacity * sizeof(T)));
        if (data == nullptr) abort(); // out of heap: nothing sensible to compute with
        for (size_t i = 0; i < count_; ++i) {
            T &old = data_[(head_ + i) % capacity_];
            new (data + i) T(old);
            old.~T();
        }
        free(data_);
        data_ = data;
        capacity_ = capacity;
        head_ = 0;
    }
};

} // namespace hls

#endif
