"""Power monitors for energy mode, one small module per device type (the MLCommons runner's
habit): lpm01a.py speaks the STMicro X-NUCLEO-LPM01A text protocol; joulescope.py streams a
Joulescope through its own package and reduces it to what an LPM01A gives; simulated.py is an
LPM01A on a pty, driven by the emulated board's timestamp pin and a board's power model.
trials.py holds what they share: the samples and events of each trial."""
