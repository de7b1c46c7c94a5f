"""What to try next: a grid, a random sample, or a model-based search (Optuna's TPE sampler,
multi-objective, with the board's resources as a constraint).

Every method proposes the same trials whatever a previous invocation did, so that a resumed sweep
runs exactly the trials the killed one had not finished and ends with the same table:

- grid: the trials are the grid's points in order (trial n is point n), the first `trials` of them;
- random: trial n's values come from a generator seeded with (seed, n), drawn again while they repeat
  an earlier trial's (a finite space smaller than `trials` ends the sweep early);
- model: trial n is asked of a study rebuilt from the finished trials (in trial order) and those
  still running (Optuna's constant liar keeps parallel asks apart), with a sampler seeded with
  seed + n. Run serially, a resumed sweep asks what the uninterrupted one asked.

A design that does not fit the board is a finished trial with its objectives and a violated
constraint (its fullest resource's use - 1 > 0): the model learns where the board ends. A failed
trial, or one without a value for every objective, is a failed trial to the sampler."""

from __future__ import annotations

import json
import math
import warnings
from abc import ABC, abstractmethod
from typing import Any, Literal

import numpy as np

from common.errors import ConfigError
from sweep.space import OBJECTIVES, Space, canonical


class Search(ABC):
    def __init__(self, space: Space, trials: int | None, finished: list[dict[str, Any]]):
        self.space = space
        self.finished = sorted(finished, key=lambda r: r["trial"])
        self.done = {r["trial"] for r in finished}
        self.total = self._budget(trials)

    @abstractmethod
    def _budget(self, trials: int | None) -> int:
        """How many trials the sweep has in all (finished ones included)."""

    @abstractmethod
    def next(self, running: list[tuple[int, dict[str, Any]]]) -> tuple[int, dict[str, Any]] | None:
        """(trial number, parameters) of the next trial to run, or None: nothing left to propose."""

    def tell(self, record: dict[str, Any]) -> None:
        """A finished trial (a retried one replaces its earlier record)."""
        self.finished = sorted([r for r in self.finished if r["trial"] != record["trial"]] + [record], key=lambda r: r["trial"])
        self.done.add(record["trial"])


class ListSearch(Search):
    """Trials known in advance (grid, random): trial n is points[n]; finished ones are skipped."""

    points: list[dict[str, Any]]

    def __init__(self, space: Space, trials: int | None, finished: list[dict[str, Any]]):
        super().__init__(space, trials, finished)
        for r in self.finished:
            if r["trial"] >= len(self.points) or canonical(self.points[r["trial"]]) != canonical(r["params"]):
                raise ConfigError(f"journal trial {r['trial']} has parameters {r['params']} the space does not propose "
                                  f"as trial {r['trial']}: the journal belongs to another space")
        self._todo = [n for n in range(len(self.points)) if n not in self.done]

    def next(self, running):
        return (self._todo[0], self.points[self._todo.pop(0)]) if self._todo else None


class GridSearch(ListSearch):
    def _budget(self, trials):
        grid = self.space.grid()
        self.points = grid[:trials] if trials else grid
        return len(self.points)


class RandomSearch(ListSearch):
    def _budget(self, trials):
        if trials is None:
            raise ConfigError("search.method random needs a number of trials (trials=N, or search.trials in the space)")
        self.points, seen = [], set()
        for n in range(trials):
            for attempt in range(200):
                params = sample(self.space, np.random.default_rng([self.space.spec.search.seed, n, attempt]))
                if canonical(params) not in seen:
                    break
            else:  # the space has fewer points than trials
                break
            seen.add(canonical(params))
            self.points.append(params)
        return len(self.points)


def sample(space: Space, rng: np.random.Generator) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, p in space.parameters.items():
        if p.values is not None:
            params[key] = p.values[int(rng.integers(len(p.values)))]
            continue
        assert p.low is not None and p.high is not None
        x = math.exp(rng.uniform(math.log(p.low), math.log(p.high))) if p.log else rng.uniform(p.low, p.high)
        params[key] = int(round(x)) if p.integer else float(x)
    return params


class ModelSearch(Search):
    """Optuna's TPE sampler over the space, one objective per space objective."""

    def _budget(self, trials):
        if trials is None:
            raise ConfigError("search.method model needs a number of trials (trials=N, or search.trials in the space)")
        return trials

    def next(self, running):
        if len(self.done) + len(running) >= self.total:
            return None
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        numbers = self.done | {n for n, _ in running}
        number = max(numbers, default=-1) + 1
        settings = self.space.spec.search
        dists = self._distributions()
        with warnings.catch_warnings():  # multivariate and constant_liar are marked experimental
            warnings.simplefilter("ignore")
            sampler = optuna.samplers.TPESampler(seed=settings.seed + number, n_startup_trials=settings.startup,
                                                 multivariate=True, constant_liar=True, constraints_func=_unused)
            study = optuna.create_study(directions=[_direction(o) for o in self.space.objectives], sampler=sampler)
            for r in self.finished:
                study.add_trial(self._frozen(r, dists))
            for _, params in running:
                study.add_trial(optuna.trial.create_trial(params=self._encode(params), distributions=dists,
                                                          state=optuna.trial.TrialState.RUNNING))
            trial = study.ask(dists)
        return number, self._decode(trial.params)

    def _distributions(self) -> dict:
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        dists: dict[str, Any] = {}
        for key, p in self.space.parameters.items():
            if p.values is not None:  # as JSON text: Optuna's choices are scalars, a value may be a list
                dists[key] = CategoricalDistribution([canonical(v) for v in p.values])
            elif p.integer:
                assert p.low is not None and p.high is not None
                dists[key] = IntDistribution(round(p.low), round(p.high), log=p.log)
            else:
                assert p.low is not None and p.high is not None
                dists[key] = FloatDistribution(p.low, p.high, log=p.log)
        return dists

    def _encode(self, params: dict[str, Any]) -> dict[str, Any]:
        return {k: canonical(v) if self.space.parameters[k].values is not None else v for k, v in params.items()}

    def _decode(self, params: dict[str, Any]) -> dict[str, Any]:
        return {k: json.loads(v) if self.space.parameters[k].values is not None else v for k, v in params.items()}

    def _frozen(self, record: dict[str, Any], dists: dict):
        import optuna

        values = [record["metrics"].get(o) for o in self.space.objectives]
        complete = record["status"] in ("done", "no-fit") and all(v is not None for v in values)
        state = optuna.trial.TrialState.COMPLETE if complete else optuna.trial.TrialState.FAIL
        # the sampler reads a trial's constraints from this system attribute (where its constraints_func would put them)
        violation = record["metrics"].get("utilisation", 0.0) - 1.0 if record["status"] == "no-fit" else min(
            0.0, record["metrics"].get("utilisation", 0.0) - 1.0)
        return optuna.trial.create_trial(params=self._encode(record["params"]), distributions=dists,
                                         values=values if complete else None, state=state,
                                         system_attrs={"constraints": (violation,)} if complete else None)


def _direction(objective: str) -> Literal["maximize", "minimize"]:
    return "maximize" if OBJECTIVES[objective] == "max" else "minimize"


def _unused(trial) -> tuple[float]:
    """Never called (trials are added finished, with their constraints): Optuna reads constraints only when given one."""
    return (0.0,)


def make_search(space: Space, trials: int | None, finished: list[dict[str, Any]]) -> Search:
    methods: dict[str, type[GridSearch] | type[RandomSearch] | type[ModelSearch]] = {
        "grid": GridSearch, "random": RandomSearch, "model": ModelSearch}
    method = methods[space.spec.search.method]
    return method(space, trials if trials is not None else space.spec.search.trials, finished)
