"""EEMBC-protocol host runner: talks to a DUT over a serial line and writes MLPerf Tiny result files."""
