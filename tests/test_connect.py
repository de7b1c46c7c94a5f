"""runner/connect.py: which modes share a connection, and the one factory that connects them."""

from __future__ import annotations

from runner.connect import ModeGroup, build_variant, group_modes


def test_performance_and_accuracy_share_a_build_energy_has_its_own():
    assert [build_variant(m) for m in ("p", "a", "e", "performance", "accuracy", "energy")] == \
        ["performance", "performance", "energy", "performance", "performance", "energy"]


def test_one_connection_per_build_port_and_baud_in_the_order_asked():
    bauds = {"performance": 115200, "accuracy": 115200, "energy": 9600}
    assert group_modes(["accuracy", "energy", "performance"], lambda m: (None, bauds[m])) == [
        ModeGroup("performance", None, 115200, ["accuracy", "performance"]), ModeGroup("energy", None, 9600, ["energy"])]
    # the same port and baud rate, but another build: another connection
    assert [g.modes for g in group_modes(["p", "e"], lambda m: ("/dev/ttyACM0", 115200))] == [["p"], ["e"]]
    # a devices file giving accuracy its own port
    ports = {"p": "/dev/ttyACM0", "a": "/dev/ttyACM1"}
    assert [(g.port, g.modes) for g in group_modes(["p", "a"], lambda m: (ports[m], 115200))] == \
        [("/dev/ttyACM0", ["p"]), ("/dev/ttyACM1", ["a"])]
