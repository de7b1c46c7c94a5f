"""Real datasets from their official public locations, into the cache (common.paths.cache_root):
downloaded resumably, checked, extracted, and arranged where each task's `data.real_path` looks
(data=auto then uses them).

    python -m tasks.download kws|ad|ic|vww [--cache DIR]

A source's SHA-256 is listed where it is published or was verified; elsewhere the archive is
checked only for completeness (its size), and the checksum computed is printed for the record.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from common.download import extract, fetch, sha256
from common.errors import HarnessError
from common.paths import cache_root


@dataclass(frozen=True)
class Source:
    url: str
    archive: str
    sha256: str | None
    folder: str  # where it is extracted, under the cache


SOURCES = {
    # Google Speech Commands v2 (the real_path of tasks/kws/task.yaml: <cache>/speech_commands_v0.02)
    "kws": [Source("http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz", "speech_commands_v0.02.tar.gz",
                   None, "speech_commands_v0.02")],
    # CIFAR-10, python pickle batches (cifar-10-batches-py/)
    "ic": [Source("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "cifar-10-python.tar.gz",
                  "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce", "cifar10")],
    # DCASE 2020 task 2 development data, ToyCar (ToyCar/{train,test})
    "ad": [Source("https://zenodo.org/record/3678171/files/dev_data_ToyCar.zip", "dev_data_ToyCar.zip", None,
                  "dcase2020_task2")],
    # visual wake words, the reference's prebuilt archive (vw_coco2014_96/{person,non_person}/*.jpg), as
    # mlcommons/tiny benchmark/training/visual_wake_words/download_and_train_vww.sh fetches it
    "vww": [Source("https://www.silabs.com/public/files/github/machine_learning/benchmarks/datasets/vw_coco2014_96.tar.gz",
                   "vw_coco2014_96.tar.gz", None, "vww")],
}


def download(task: str, cache: Path) -> list[Path]:
    if task not in SOURCES:
        raise HarnessError(f"no real dataset source for task '{task}': choose one of {', '.join(SOURCES)}")
    folders = []
    for s in SOURCES[task]:
        archive = fetch(s.url, cache / "archives" / s.archive, s.sha256)
        if s.sha256 is None:
            logging.info("%s: SHA-256 %s (no published checksum to compare with)", archive.name, sha256(archive))
        folders.append(extract(archive, cache / s.folder))
    return folders


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tasks.download", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=sorted(SOURCES))
    p.add_argument("--cache", type=Path, default=None, help="default: $MLPERF_TINY_CACHE or ~/.cache/mlperf-tiny-fpga")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        for folder in download(args.task, args.cache or cache_root()):
            print(folder)
    except HarnessError as e:
        print(f"download: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
