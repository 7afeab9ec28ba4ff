# Paths and helpers shared by the rules.

import json
import re
import shlex

from tranrep import config as settings
from tranrep.aggregate import RESULTS_FORMAT
from tranrep.data.parquet import PROCESSED_FORMAT
from tranrep.pipeline import METRICS_FILE, RESULT_TABLES
from tranrep.io import write_json_if_changed

EXPERIMENT = config["experiment"]
RAW = config["data"]["raw_dir"]
PROCESSED = config["data"]["processed_dir"]
RUNS = f"data/runs/{EXPERIMENT}"
RESULTS = f"data/results/{EXPERIMENT}"
LOGS = f"logs/{EXPERIMENT}"
REPORTS = f"reports/{EXPERIMENT}"
REPORT_HTML = f"{REPORTS}/replication.html"
REPORT_TEX = f"{REPORTS}/replication.tex"
REPORT_PDF = f"{REPORTS}/replication.pdf"
SPLITS = ["train", "validation", "test"]
RUN_FILES = ["metrics.json", "predictions.parquet", "attention.npz", "curve.csv"]
RESULT_FILES = [*RESULT_TABLES, METRICS_FILE]
SOURCES_FILE = f".snakemake/tranrep/{EXPERIMENT}-sources.json"
# Every cluster job re-reads this file: rewritten only when the sources change.
write_json_if_changed(SOURCES_FILE, settings.source_lists(config))
FOLDER_DATASET = {settings.processed_folder(config, d): d for d in settings.datasets(config)}


def as_arg(value):
    """A JSON value quoted for the shell; as a rule param, a change reruns the rule's jobs."""
    return shlex.quote(json.dumps(value, sort_keys=True))


def raw_files(dataset):
    return [f"{RAW}/{name}" for name in settings.needed_files(config, dataset)]


def processed_files(dataset):
    folder = settings.processed_folder(config, dataset)
    return [f"{PROCESSED}/{folder}/{split}.parquet" for split in SPLITS] + [
        f"{PROCESSED}/{folder}/card.json"
    ]


def run_files(problem, method, seed):
    return [f"{RUNS}/{problem}/{method}/seed{seed}/{name}" for name in RUN_FILES]


wildcard_constraints:
    problem="|".join(config["problems"]),
    method="|".join(config["methods"]),
    seed=r"\d+",
    folder="|".join(FOLDER_DATASET),
