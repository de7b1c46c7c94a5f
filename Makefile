# MLPerf Tiny FPGA harness.
#   make task=ad board=pynq_z2 [flow=hls4ml] [data=auto|synthetic|PATH] [model=trained|reference] [testset=EEMBC_FOLDER]
#                        [dut=emulated|qemu|usb|PORT] [timing=host|modeled] [modes="performance accuracy energy"]
#                        [from=STAGE] [to=STAGE] [resume=1] [set="KEY=VALUE ..."]   set: task.yaml overrides
#   make task=kws board=pynq_z2 flow=finn model=MODEL.onnx testset=EEMBC_FOLDER input_scale=S [input_zero_point=Z]
#                        a QONNX model trained elsewhere, with its own test files
#   make test            lint (ruff), types (mypy) and the test suite (pytest, one worker per core)
#   make download task=kws   the task's real dataset, from its official location, into ~/.cache/mlperf-tiny-fpga
#   make dut task=ad board=pynq_z2 [energy=1]   start the emulated DUT of a built flow (prints its serial path)
#   make program task=ad board=arty_a7 [flow=hls4ml] [energy=1] [flash=1] [hw_server=HOST:PORT (default localhost:3121)]
#                        put a built flow on the board with Vivado/Vitis (JTAG, or flash=1: its boot flash)
#   make export runs="build/ad/hls4ml/pynq_z2/run ..." org=ORG [division=open|closed] [status=available|preview|rdi] [dry_run=1]
#                        MLPerf Tiny submission tree under build/submission, checked; refused runs need dry_run=1
#   make report          comparison of every run with the published FPGA results: build/report/index.html
#   make sweep task=kws flow=finn space=tasks/kws/sweep.yaml [board=pynq_z2] [trials=N] [workers=N] [cluster=ADDRESS]
#                        [resume=1 [retry_failed=1]]
#                        design-space sweep on Ray (embedded; a cluster with cluster=): build/sweep/<task>/, docs/sweep.md
#   make setup           venv + pinned Python packages + the Debian packages the builds need
task  ?=
board ?= pynq_z2
flow  ?= hls4ml
data  ?= auto
dut   ?= emulated
model ?= trained
PY    := .venv/bin/python
STAMP := .venv/.installed
DEBS  := build-essential clang-14 libclang-rt-14-dev espeak-ng gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-dev qemu-system-arm qemu-system-misc iverilog \
         gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user
export TQDM_MININTERVAL ?= 2
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

division ?= open
status   ?= available

# a make variable as one shell word: single-quoted, its own single quotes escaped, so that
# make task="ad; echo X" names the task "ad; echo X" (refused by the pipeline) instead of running a command
sq = '$(subst ','\'',$(1))'

.PHONY: all setup test dut program download bench export report sweep clean
all: $(STAMP)
ifeq ($(task),)
	@echo "usage: make task=<kws|ad|ic|vww> board=<pynq_z2|arty_a7|zedboard> [flow=hls4ml|finn] [data=auto|synthetic|PATH] [model=trained|reference|MODEL.onnx] [testset=EEMBC_FOLDER] [input_scale=S] [input_zero_point=Z] [dut=emulated|qemu|usb|PORT] [timing=host|modeled] [from=STAGE] [to=STAGE] [set=\"KEY=VALUE ...\"]"; exit 2
else
	$(PY) -m pipeline run --task $(call sq,$(task)) --board $(call sq,$(board)) --flow $(call sq,$(flow)) --data $(call sq,$(data)) --model $(call sq,$(model)) --dut $(call sq,$(dut)) \
	  $(if $(testset),--testset $(call sq,$(testset))) $(if $(input_scale),--input-scale $(call sq,$(input_scale))) \
	  $(if $(input_zero_point),--input-zero-point $(call sq,$(input_zero_point))) $(if $(from),--from $(call sq,$(from))) $(if $(to),--to $(call sq,$(to))) \
	  $(if $(resume),--resume) $(if $(timing),--timing $(call sq,$(timing))) $(if $(modes),--modes $(foreach m,$(modes),$(call sq,$(m)))) \
	  $(foreach s,$(set),--set $(call sq,$(s)))
endif

setup: $(STAMP)

# torch first (the pinned CPU wheel; an unpinned torch pulls a multi-GB CUDA build), finn-plus last
# without its dependencies (it pins brevitas 0.13.0, broken with torch 2.13: docs/toolchains.md A.2).
$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml Makefile
	@for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi
	test -x $(PY) || python3.11 -m venv .venv
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

# lint and type-check first (seconds), then the suite on every core; a test module's tests stay on
# one worker (--dist loadfile), so a module's shared fixtures are built once
test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile tests

dut: $(STAMP)
	$(PY) -m pipeline dut --task $(call sq,$(task)) --board $(call sq,$(board)) --flow $(call sq,$(flow)) --data $(call sq,$(data)) --model $(call sq,$(model)) \
	  $(if $(testset),--testset $(call sq,$(testset))) $(if $(input_scale),--input-scale $(call sq,$(input_scale))) \
	  $(if $(input_zero_point),--input-zero-point $(call sq,$(input_zero_point))) $(if $(energy),--energy)

program: $(STAMP)
	@test -n $(call sq,$(task)) || { echo 'usage: make program task=<kws|ad|ic> board=<pynq_z2|arty_a7|zedboard> [flow=hls4ml|finn] [energy=1] [flash=1] [hw_server=HOST:PORT]'; exit 2; }
	$(if $(hw_server),HW_SERVER=$(call sq,$(hw_server))) $(PY) -m pipeline program --task $(call sq,$(task)) --board $(call sq,$(board)) --flow $(call sq,$(flow)) --data $(call sq,$(data)) --model $(call sq,$(model)) \
	  $(if $(testset),--testset $(call sq,$(testset))) $(if $(input_scale),--input-scale $(call sq,$(input_scale))) \
	  $(if $(input_zero_point),--input-zero-point $(call sq,$(input_zero_point))) $(if $(energy),--energy) $(if $(flash),--flash)

export: $(STAMP)
	@test -n $(call sq,$(runs)) -a -n $(call sq,$(org)) || { echo 'usage: make export runs="build/<task>/<flow>/<board>/run ..." org=ORG [division=open|closed] [status=available|preview|rdi] [dry_run=1]'; exit 2; }
	$(PY) -m results export $(foreach r,$(runs),--run $(call sq,$(r))) --organization $(call sq,$(org)) --division $(call sq,$(division)) --status $(call sq,$(status)) 	  $(if $(dry_run),--dry-run)

download: $(STAMP)
	$(PY) -m tasks.download $(call sq,$(task))

report: $(STAMP)
	$(PY) -m results report

sweep: $(STAMP)
	@test -n $(call sq,$(task)) -a -n $(call sq,$(space)) || { echo 'usage: make sweep task=<kws|ad|ic> space=FILE [flow=hls4ml|finn] [board=pynq_z2|arty_a7|zedboard] [data=auto|synthetic|PATH] [trials=N] [workers=N] [cluster=ADDRESS] [resume=1 [retry_failed=1]]'; exit 2; }
	$(PY) -m sweep --task $(call sq,$(task)) --flow $(call sq,$(flow)) --board $(call sq,$(board)) --data $(call sq,$(data)) --space $(call sq,$(space)) \
	  $(if $(trials),--trials $(call sq,$(trials))) $(if $(workers),--workers $(call sq,$(workers))) $(if $(cluster),--cluster $(call sq,$(cluster))) \
	  $(if $(resume),--resume) $(if $(retry_failed),--retry-failed)

bench: $(STAMP)
	$(PY) bench/emulated_dut.py
	$(PY) bench/fuzz_protocol.py
	$(PY) bench/finn_emulator.py
	$(PY) bench/hls4ml_emulator.py
	$(PY) bench/runner_link.py
	$(PY) bench/sweep.py
	$(PY) bench/paper_designs.py

clean:
	rm -rf build
