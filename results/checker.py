"""A checker for MLPerf Tiny submission trees, implementing the rules of the MLCommons submission
checker (docs/mlperf-tiny.md 5.2, version v1.4): tree hygiene, system descriptions, the files each mode needs, the
exact result-line patterns, closed-division accuracy targets and ic2's need for ic; and, beyond the
MLCommons checker, the digest list our export writes (digests.py), so a file edited after the export
is named. Every finding names the file and the rule; valid results go to summary.csv with the official columns."""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from results import digests

DIVISIONS = ("closed", "open")
STATUSES = ("available", "preview", "rdi")
MODELS = ("ad", "ic", "ic2", "kws", "vww", "sww")
TARGETS = {"ad": ("auc", 0.85), "ic": ("top-1", 85.0), "ic2": ("top-1", 91.0), "kws": ("top-1", 90.0), "vww": ("top-1", 80.0)}
REQUIRED_TESTS = {"ad": ("accuracy", "performance"), "ic": ("accuracy", "performance"), "ic2": ("accuracy", "performance"),
                  "kws": ("accuracy", "performance"), "vww": ("accuracy", "performance"), "sww": ()}
MLC_FILES = {"log.txt", "results.txt", "results.json"}
EEMBC_FILES = {"log.txt", "results.txt", "script.async"}
IGNORED_FILES = {"results.json", "mlperf_log_trace.json", ".gitkeep"}  # not compared for EEMBC runs
SIZE_LIMIT = 500 * 1024 * 1024
PATTERNS = {
    "top-1": re.compile(r".* Top[- ]1%?\s?[:=] ([\d\.]+).*"),
    "auc": re.compile(r".* AUC\s?[:=] ([\d\.]+).*"),
    "throughput": re.compile(r".* Median throughput is\s+([\d\.]+) inf\./sec\..*"),
    "energy": re.compile(r".*Median energy cost is ([\d\.]+) uJ/inf.*"),
}
COLUMNS = ["Organization", "Availability", "Division", "BoardName", "SystemDesc", "Model", "MlperfModel", "Result",
           "ResultUnit", "Accuracy", "HasPower", "Power", "PowerUnit", "HostProcessorModelName", "HostProcessorFrequency",
           "HostProcessorMemory", "AcceleratorModelName", "AcceleratorFrequency", "AcceleratorMemory", "HardwareNotes",
           "InferenceFramework", "SoftwareLibraries", "SoftwareNotes", "FalsePositives", "FalseNegatives", "DutyCycle"]


@dataclass
class Finding:
    level: str  # error | warning
    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.level.upper()} {self.path}: [{self.rule}] {self.message}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def _last_match(pattern: re.Pattern, path: Path) -> float | None:
    value = None
    for line in path.read_text(errors="replace").splitlines():
        m = pattern.match(line)
        if m:
            value = m.group(1)
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


class _Checker:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.report = Report()

    def add(self, level: str, path: Path, rule: str, message: str) -> None:
        self.report.findings.append(Finding(level, str(path.relative_to(self.root)) if path != self.root else ".", rule, message))

    def hygiene(self, org: Path) -> bool:
        ok = True
        for dirpath, dirnames, filenames in os.walk(org):
            here = Path(dirpath)
            for name in dirnames + filenames:
                p = here / name
                if p.is_symlink():
                    self.add("error", p, "no-symlinks", "symbolic links are not allowed")
                    ok = False
                if name.startswith("."):
                    self.add("warning", p, "git-friendly-names", "name starts with '.'")
                if " " in name:
                    self.add("warning", p, "no-spaces", "name contains a space")
            if here.name == "__pycache__":
                self.add("error", here, "no-pycache", "__pycache__ folders are not allowed")
                ok = False
            if not dirnames and not filenames:
                self.add("error", here, "no-empty-folders", "empty folder")
                ok = False
            for name in filenames:
                p = here / name
                if not p.is_symlink() and p.stat().st_size > SIZE_LIMIT:
                    self.add("error", p, "size-limit", f"file larger than {SIZE_LIMIT // 2**20} MB")
                    ok = False
        return ok

    def digest_list(self, org: Path) -> None:
        """Every file as the export's digest list says (an MLCommons tree without one: a warning)."""
        if not (org / digests.NAME).is_file():
            self.add("warning", org, "digest-list", f"no {digests.NAME}: edits after the export cannot be detected")
            return
        for rel, what in digests.differences(org):
            self.add("error", org / rel, "digest-list", f"{what} ({digests.NAME})")

    def system(self, org: Path, system_id: str) -> dict | None:
        path = org / "systems" / f"{system_id}.json"
        if not path.is_file():
            self.add("error", org / "results" / system_id, "system-description", f"no systems/{system_id}.json")
            return None
        try:
            desc = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            self.add("error", path, "system-description", f"not valid JSON: {e}")
            return None
        if str(desc.get("Status", "")).lower() not in STATUSES:
            self.add("error", path, "status", f"Status is {desc.get('Status')!r}, not one of {', '.join(STATUSES)}")
            return None
        if desc.get("system_type") is not None:
            self.add("error", path, "no-system-type", "a system_type key is not allowed")
            return None
        return desc

    def mode_files(self, folder: Path, eembc: bool) -> None:
        present = {p.name for p in folder.iterdir() if p.is_file()}
        expected = EEMBC_FILES if eembc else MLC_FILES
        if eembc:
            present -= IGNORED_FILES
        if present != expected:
            missing, extra = sorted(expected - present), sorted(present - expected)
            self.add("error", folder, "file-list", f"missing {missing}, unexpected {extra}")

    def benchmark(self, division: str, org: Path, system_id: str, desc: dict, bench: Path) -> None:
        name = bench.name
        if name not in MODELS:
            self.add("error", bench, "benchmark-name", f"'{name}' is not one of {', '.join(MODELS)}")
            return
        if name == "ic2" and not (bench.parent / "ic").is_dir():
            self.add("error", bench, "ic2-needs-ic", "an ic2 result needs an ic result of the same system")
            return
        eembc = (bench / "EEMBC_RUNNER").exists()
        valid = True
        for test in REQUIRED_TESTS[name]:
            if not (bench / test / "results.txt").is_file():
                self.add("error", bench / test, "required-files", "results.txt is missing")
                valid = False
        if not valid:
            return
        self.mode_files(bench / "accuracy", eembc)
        self.mode_files(bench / "performance", eembc)
        kind, target = TARGETS[name]
        accuracy = _last_match(PATTERNS[kind], bench / "accuracy" / "results.txt")
        if accuracy is None:
            self.add("error", bench / "accuracy" / "results.txt", "accuracy-line", f"no line matches {PATTERNS[kind].pattern}")
            valid = False
        elif division == "closed" and accuracy < target:
            self.add("error", bench / "accuracy" / "results.txt", "closed-accuracy-target",
                     f"{kind} {accuracy} is below the closed-division target {target}")
            valid = False
        throughput = _last_match(PATTERNS["throughput"], bench / "performance" / "results.txt")
        if throughput is None:
            self.add("error", bench / "performance" / "results.txt", "throughput-line",
                     f"no line matches {PATTERNS['throughput'].pattern}")
            valid = False
        energy = None
        if (bench / "energy").is_dir():
            self.mode_files(bench / "energy", eembc)
            energy_file = bench / "energy" / "results.txt"
            energy = _last_match(PATTERNS["energy"], energy_file) if energy_file.is_file() else None
            if energy is None:
                self.add("error", energy_file, "energy-line", f"no line matches {PATTERNS['energy'].pattern}")
                valid = False
        if valid:
            self.report.rows.append({
                "Organization": org.name, "Availability": str(desc.get("Status")).lower(), "Division": division,
                "BoardName": desc.get("Board Name"), "SystemDesc": system_id, "Model": name, "MlperfModel": name,
                "Result": throughput, "ResultUnit": "inf./sec.", "Accuracy": accuracy, "HasPower": energy is not None,
                "Power": energy or 0, "PowerUnit": "uJ/inf.", "HostProcessorModelName": desc.get("Processor(s) Name"),
                "HostProcessorFrequency": desc.get("Processor(s) Frequencies"),
                "HostProcessorMemory": desc.get("Processor memory type and capacity"),
                "AcceleratorModelName": desc.get("Accelerator"), "AcceleratorFrequency": desc.get("Accelerator(s) Frequencies"),
                "AcceleratorMemory": desc.get("Accelerator memory type and capacity"),
                "HardwareNotes": desc.get("Hardware Notes"),
                "InferenceFramework": desc.get("Inference Framework"), "SoftwareLibraries": desc.get("Software Libraries"),
                "SoftwareNotes": desc.get("Software Notes"), "FalsePositives": None, "FalseNegatives": None, "DutyCycle": None,
            })

    def run(self) -> Report:
        if not self.root.is_dir():
            self.add("error", self.root, "input", "not a folder")
            return self.report
        for division in sorted(p for p in self.root.iterdir() if p.is_dir()):
            if division.name not in DIVISIONS:
                self.add("error", division, "division", f"'{division.name}' is not closed or open")
                continue
            for org in sorted(p for p in division.iterdir() if p.is_dir()):
                if not (org / "results").is_dir():
                    self.add("error", org, "results-folder", "no results/ folder")
                    continue
                if not self.hygiene(org):
                    continue
                self.digest_list(org)
                for system in sorted(p for p in (org / "results").iterdir() if p.is_dir()):
                    desc = self.system(org, system.name)
                    if desc is None:
                        continue
                    for bench in sorted(p for p in system.iterdir() if p.is_dir()):
                        self.benchmark(division.name, org, system.name, desc, bench)
        if not self.report.rows and not self.report.errors:
            self.add("error", self.root, "results", "no results found")
        return self.report


def check(root: Path, csv_path: Path | None = None) -> Report:
    report = _Checker(root).run()
    if csv_path is not None:
        with open(csv_path, "w", newline="") as f:
            f.write(",".join(COLUMNS) + "\n")
            csv.DictWriter(f, COLUMNS, quoting=csv.QUOTE_ALL).writerows(report.rows)
    return report
