"""FIFO depths of an io_stream design from its modeled timeline (settings `fifo_depth: modeled`).

hls4ml gives every stream between two layers a FIFO as deep as its tensor has packets (pixels), so that
nothing can stall; its `fifo_depth_optimization` pass shrinks them to the largest occupancy a Vitis HLS
co-simulation observes, which needs Vitis HLS. Here the occupancy comes from the latency model instead
(latency.py follows every packet: when its writer writes it and when its reader takes it), the same
measurement on the modeled timeline: the largest number of packets written and not yet read, at least 2.

A FIFO too shallow for the real timing stalls its writer; on a stream whose layers form a chain that
costs time but cannot deadlock (a writer blocked on a full FIFO waits for a reader that only waits on
its own input). Where two paths of the graph meet again (a residual block's clone and add), a stalled
branch can starve the other, and a modeled depth that is too small would deadlock the design: those
streams (the ones on a cycle of the undirected layer graph) keep hls4ml's full depth. So do the model's
own input and output streams, as in hls4ml's pass. Where Vitis HLS exists, hls4ml's co-simulation pass
is the check of these depths; none ran here.

`branches` (settings `fifo_depth: modeled_branches`) also shrinks most of a fork/join's streams: where a join's
two inputs go back, layer by layer, to the same Clone, only the branch that runs ahead on the modeled timeline
(the more packets waiting at the join: a residual block's skip path) keeps hls4ml's full depth, every stream of
it; the other branch's streams take their modeled occupancy. That cannot deadlock: a branch whose FIFOs each hold
a whole tensor never blocks the clone, so the clone waits only on the other branch, a chain that the join drains
as the full branch delivers (it has every packet the join waits for, as the clone has passed them on both
sides). A join whose branches do not meet at one Clone keeps the full depths."""

from __future__ import annotations

from collections import defaultdict

MIN_DEPTH = 2  # a FIFO of depth 1 cannot take a packet in the cycle its last one leaves


def occupancy(writes: list[float], reads: list[float]) -> int:
    """The most packets in the FIFO at once: packet i is in it from its write to its read, both included."""
    events = sorted([(t, 0) for t in writes] + [(t, 1) for t in reads])  # at the same cycle a write counts first
    held = most = 0
    for _, is_read in events:
        held += -1 if is_read else 1
        most = max(most, held)
    return most


def _bridges(edges: list[tuple[str, str, str]]) -> set[str]:
    """The edges (tensor names) on no cycle of the undirected multigraph of (tensor, layer, layer) edges."""
    adjacent: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for tensor, a, b in edges:
        adjacent[a].append((b, tensor))
        adjacent[b].append((a, tensor))
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    found: set[str] = set()
    for root in adjacent:
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack = [(root, "", iter(adjacent[root]))]  # depth-first, without recursion: (node, edge in, its neighbours)
        while stack:
            node, via, neighbours = stack[-1]
            for nxt, tensor in neighbours:
                if tensor == via:
                    continue
                if nxt in order:
                    low[node] = min(low[node], order[nxt])
                else:
                    order[nxt] = low[nxt] = len(order)
                    stack.append((nxt, tensor, iter(adjacent[nxt])))
                    break
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        found.add(via)
    return found


def _branch(layers: dict, producer: dict[str, str], stream: str) -> tuple[str | None, list[str]]:
    """Back from a join's input stream through single-input, single-output layers: (the Clone it starts at, or
    None, and the streams on the way)."""
    streams = [stream]
    while True:
        layer = layers[producer[stream]] if stream in producer else None
        if layer is None:
            return None, streams
        if layer.class_name == "Clone":
            return layer.name, streams
        if len(layer.inputs) != 1 or len(layer.outputs) != 1:
            return None, streams
        stream = layer.inputs[0]
        streams.append(stream)


def behind_branches(hls_model, timing: dict) -> set[str]:
    """The streams of each fork/join's branch that does not run ahead (the module's docstring): those that may
    take their modeled depth."""
    layers = {layer.name: layer for layer in hls_model.get_layers()}
    producer = {out: layer.name for layer in layers.values() for out in layer.outputs}
    behind: set[str] = set()
    for join in layers.values():
        if len(join.inputs) != 2:
            continue
        (fork_a, a), (fork_b, b) = (_branch(layers, producer, name) for name in join.inputs)
        if fork_a is None or fork_a != fork_b or not all(s in timing["reads"] and s in timing["writes"] for s in a + b):
            continue
        waiting = [occupancy(timing["writes"][s[0]], timing["reads"][s[0]]) for s in (a, b)]
        behind |= set(b if waiting[0] >= waiting[1] else a)
    return behind


def apply(hls_model, timing: dict, branches: bool = False) -> dict[str, dict[str, int]]:
    """Set each chain stream's FIFO depth to its modeled occupancy (timing: latency.model's writes and
    reads), with branches also the streams of a fork/join's branch that does not run ahead; returns
    {stream: {"tensor": hls4ml's depth, "modeled": the new one}} for the streams changed."""
    producer = {out: layer.name for layer in hls_model.get_layers() for out in layer.outputs}
    edges = [(name, producer[name], layer.name) for layer in hls_model.get_layers() for name in layer.inputs if name in producer]
    chain = _bridges(edges) | (behind_branches(hls_model, timing) if branches else set())
    ends = {v.name for v in hls_model.get_input_variables() + hls_model.get_output_variables()}
    changed: dict[str, dict[str, int]] = {}
    for layer in hls_model.get_layers():
        for name in layer.outputs:
            var = layer.get_output_variable(name)
            pragma = getattr(var, "pragma", None)
            if (not isinstance(pragma, tuple) or pragma[0] != "stream" or var.name in ends or name not in chain
                    or name not in timing["reads"]):
                continue
            depth = max(MIN_DEPTH, occupancy(timing["writes"][name], timing["reads"][name]))
            if depth < int(pragma[1]):
                changed[name] = {"tensor": int(pragma[1]), "modeled": depth}
                var.pragma = ("stream", depth)
    return changed
