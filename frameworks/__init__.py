"""The ML frameworks' set-up, shared by the task recipes and the toolchains (a layer below both, so
neither imports the other): Keras 2 for QKeras and hls4ml (keras2.py), the Brevitas
quantization-aware training pieces (brevitas_qat.py), and importing a QONNX model trained
elsewhere (qonnx_import.py)."""
