"""Power monitors for energy mode, one small module per device type (the MLCommons runner's
habit): lpm01a.py speaks the STMicro X-NUCLEO-LPM01A text protocol; simulated.py is an LPM01A
on a pty, driven by the emulated board's timestamp pin and a board's power model."""
