"""params.yaml: loading, validation against the JSON schema, and the settings of each job.

Each job receives only the settings it reads, so that Snakemake (which reruns a job when its
params change) reruns exactly the jobs that a change in params.yaml touches.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tranrep.data import census, fashion_mnist, sarcos

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = PROJECT_ROOT / "workflow" / "schemas" / "params.schema.yaml"
DATASET_FILES = {
    "census": ["census-income.data.gz", "census-income.test.gz"],
    "fashion_mnist": [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ],
    "sarcos": ["sarcos_inv.mat", "sarcos_inv_test.mat"],
}
INPUT_KINDS = {"census": "tabular", "fashion_mnist": "image", "sarcos": "tabular"}
DATASET_TASKS = {
    "census": census.LABELS,
    "fashion_mnist": fashion_mnist.TASKS,
    "sarcos": sarcos.TARGETS,
}
DATASET_METRICS = {"census": ["auc", "accuracy"], "fashion_mnist": ["accuracy"], "sarcos": ["rmse"]}


def _strict_integer(checker, instance) -> bool:
    """JSON Schema counts 1.0 as an integer; a seed or an epoch count must be a real int."""
    return isinstance(instance, int) and not isinstance(instance, bool)


ParamsValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer),
)


class ConfigError(ValueError):
    """params.yaml (or an override file) does not describe a runnable replication."""


def load_params(*paths: Path | str) -> dict[str, Any]:
    """Read params.yaml and deep-merge any override files over it, then validate."""
    config: dict[str, Any] = {}
    for path in paths:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise ConfigError(f"{path}: not valid YAML ({error})") from error
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"{path}: the top level must be a mapping of settings, not {type(loaded).__name__}"
            )
        config = deep_merge(config, loaded)
    validate_params(config, source=", ".join(str(p) for p in paths))
    return config


def deep_merge(base: dict, override: dict) -> dict:
    """``override`` over ``base``, merging nested dictionaries key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _not_finite_numbers(value: Any, path: str = "") -> list[str]:
    """Dotted paths of NaN or infinite numbers (YAML's .nan and .inf pass a JSON schema)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [path or "(top level)"]
    if isinstance(value, dict):
        return [
            p for k, v in value.items() for p in _not_finite_numbers(v, f"{path}.{k}".lstrip("."))
        ]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _not_finite_numbers(v, f"{path}[{i}]")]
    return []


def validate_params(config: dict, source: str = "params.yaml") -> None:
    """Check ``config`` against the schema and the cross-field rules; raise ConfigError."""
    schema = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = ParamsValidator(schema)
    not_finite = _not_finite_numbers(config)
    if not_finite:
        raise ConfigError(
            f"{source}: {not_finite[0]} is not a finite number; expected a real value"
        )
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  - {'.'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}"
                 for e in errors[:10]]  # fmt: skip
        raise ConfigError(f"{source}: invalid settings\n" + "\n".join(lines))
    chosen = config.get("run_methods", "all")
    unknown_methods = [] if chosen == "all" else [m for m in chosen if m not in config["methods"]]
    if unknown_methods:
        raise ConfigError(
            f"{source}: run_methods lists {unknown_methods}; expected names from methods "
            f"({', '.join(config['methods'])})"
        )
    for name, problem in config["problems"].items():
        dataset = problem["dataset"]
        unknown = [t for t in problem["tasks"] if t not in DATASET_TASKS[dataset]]
        if unknown:
            raise ConfigError(
                f"{source}: problems.{name}.tasks lists {unknown}; dataset {dataset!r} has "
                f"tasks {DATASET_TASKS[dataset]}"
            )
        if problem["metric"] not in DATASET_METRICS[dataset]:
            raise ConfigError(
                f"{source}: problems.{name}.metric is {problem['metric']!r}; expected one of "
                f"{DATASET_METRICS[dataset]} for dataset {dataset!r}"
            )
        for key in ("max_epochs", "patience", "batch_size"):
            if name not in config["training"][key]:
                raise ConfigError(f"{source}: training.{key} has no entry for problem {name!r}")
    from tranrep.models.registry import check_method  # imports torch: only when validating

    method_errors = [
        m for name, e in config["methods"].items() for m in check_method(name, e, source)
    ]
    if method_errors:
        raise ConfigError("\n".join(method_errors))
    for method, settings in config["methods"].items():
        unknown = [p for p in settings.get("problems", []) if p not in config["problems"]]
        if unknown:
            raise ConfigError(
                f"{source}: methods.{method}.problems names {unknown}; expected some of "
                f"{list(config['problems'])}"
            )
    all_tasks = {t for p in config["problems"].values() for t in p["tasks"]}
    for method, settings in config["methods"].items():
        unknown = sorted(set(settings.get("task_weights") or {}) - all_tasks)
        if unknown:
            raise ConfigError(
                f"{source}: methods.{method}.task_weights names {unknown}; expected task names "
                f"of the problems ({sorted(all_tasks)})"
            )
    classes = sorted(int(k) for k in config["fashion_mnist"]["class_to_group"])
    if classes != list(range(10)):
        raise ConfigError(
            f"{source}: fashion_mnist.class_to_group has classes {classes}; expected each of 0-9"
        )
    fractions = config["sarcos"]["reduced_fractions"]
    if abs(sum(fractions) - 1.0) > 1e-9:
        raise ConfigError(f"{source}: sarcos.reduced_fractions {fractions} must sum to 1")
    groups = len(config["fashion_mnist"]["group_names"])
    for klass, group in sorted(config["fashion_mnist"]["class_to_group"].items()):
        if group >= groups:
            raise ConfigError(
                f"{source}: fashion_mnist.class_to_group.{klass} is {group}; expected a group "
                f"index below {groups} (the number of group_names)"
            )
    for dataset in {p["dataset"] for p in config["problems"].values()}:
        for file_name in needed_files(config, dataset):
            if file_name not in config["data"]["files"]:
                raise ConfigError(f"{source}: data.files has no entry for {file_name!r}")


def needed_files(config: dict, dataset: str) -> list[str]:
    """Raw files a dataset needs; SARCOS's reduced mode needs only the public test file."""
    if dataset == "sarcos" and config["sarcos"]["mode"] == "reduced":
        return ["sarcos_inv_test.mat"]
    return DATASET_FILES[dataset]


def grid(config: dict) -> list[tuple[str, str]]:
    """Every (problem, method) pair to run: each method of ``run_methods`` on its ``problems``
    (both default to all)."""
    chosen = config.get("run_methods", "all")
    return [
        (problem, method)
        for problem in config["problems"]
        for method, settings in config["methods"].items()
        if (chosen == "all" or method in chosen)
        and problem in settings.get("problems", config["problems"])
    ]


def datasets(config: dict) -> list[str]:
    """Datasets used by the configured problems, in a stable order."""
    used = {p["dataset"] for p in config["problems"].values()}
    return [d for d in DATASET_FILES if d in used]


def source_lists(config: dict) -> dict[str, dict]:
    """Where each raw file may be fetched from (sources, mirror path, hint), by file name."""
    return {
        name: {key: entry[key] for key in ("sources", "mirror_path", "hint") if key in entry}
        for name, entry in config["data"]["files"].items()
    }


def preprocess_settings(config: dict, dataset: str) -> dict:
    """What preprocessing of ``dataset`` reads from params.yaml."""
    return dict(config[dataset])


def job_settings(config: dict, problem: str, method: str, seed: int) -> dict:
    """Every setting a training job reads: nothing else, so unrelated edits rerun nothing.

    Linear methods read neither the device (scikit-learn runs on the CPU), the encoders nor the
    neural training budget."""
    problem_cfg = config["problems"][problem]
    training = config["training"]
    common = {
        "seed": seed,
        "threads": config["threads_per_job"],
        "problem": {"name": problem, **problem_cfg},
        "method": {
            "name": method,
            **{k: v for k, v in config["methods"][method].items() if k != "problems"},
        },
    }
    if _family_kind(config, method) == "linear":
        return common
    return {
        **common,
        "device": config["device"],
        "encoder": config["encoders"][
            "image" if INPUT_KINDS[problem_cfg["dataset"]] == "image" else "tabular"
        ],
        "training": {
            "optimizer": training["optimizer"],
            "learning_rate": training["learning_rate"],
            "beta_W": training["beta_W"],
            "max_epochs": training["max_epochs"][problem],
            "patience": training["patience"][problem],
            "batch_size": training["batch_size"][problem],
            "eval_batch_size": training["eval_batch_size"],
            "log_every_epochs": training["log_every_epochs"],
        },
    }


def _family_kind(config: dict, method: str) -> str:
    """``linear`` (scikit-learn) or ``neural`` (torch), from the method's family."""
    from tranrep.models.registry import family_of

    return family_of({"name": method, **config["methods"][method]}).kind


def train_gpus(config: dict, method: str) -> int:
    """GPUs a training job of ``method`` holds: 1 when it will train on CUDA, else 0.

    A neural method under ``device: cuda``, or under ``device: auto`` where CUDA is seen here
    (a GPU workstation; a cluster's login node without a GPU keeps ``auto`` jobs on the CPU).
    Linear methods always run on the CPU. The rule's ``gpu`` resource: the SLURM profile turns it
    into ``--gpus=1``, the GPU profile lets one such job at a time use the GPU."""
    if config["device"] == "cpu" or _family_kind(config, method) == "linear":
        return 0
    if config["device"] == "cuda":
        return 1
    import torch

    return int(torch.cuda.is_available())


def choices(config: dict) -> list[dict]:
    """Every choice the paper leaves open, with the value in force and why."""
    training, encoders = config["training"], config["encoders"]
    fashion = config["fashion_mnist"]
    groups = {
        name: [k for k, g in sorted(fashion["class_to_group"].items()) if g == index]
        for index, name in enumerate(fashion["group_names"])
    }
    return [
        {"setting": "census.college_education",
         "value": "; ".join(config["census"]["college_education"]),
         "why": "The paper does not list the education values of 'at least college'; every "
                "completed college degree, associate degrees included."},
        {"setting": "fashion_mnist.class_to_group",
         "value": "; ".join(f"{g}: classes {v}" for g, v in groups.items()),
         "why": "The paper names the three groups but not the classes in each."},
        {"setting": "sarcos.mode", "value": config["sarcos"]["mode"],
         "why": "standard is the paper's split; reduced splits the public test file alone."},
        {"setting": "encoders", "value": json.dumps(encoders, sort_keys=True),
         "why": "The paper gives no layer sizes: an MLP for tabular inputs, one convolutional "
                "layer for images (as its NN baseline)."},
        {"setting": "methods", "value": json.dumps(config["methods"], sort_keys=True),
         "why": "Latent size d, heads H, attention width, β_A and expert counts are not given."},
        {"setting": "training",
         "value": json.dumps({k: training[k] for k in sorted(training)}, sort_keys=True),
         "why": "Optimiser, epochs, batch size, β_W and early stopping are not given; every "
                "neural method gets the same budget."},
        {"setting": "model selection",
         "value": "best validation epoch; score = task mean of the metric (RMSE divided by the "
                  "target's training std)",
         "why": "The paper does not say how the tested model is chosen."},
        {"setting": "β_A term", "value": "Σ_h ‖A^h − I‖²_F averaged over the samples of a batch",
         "why": "Eq. 11 writes one A; ours is per sample and per head."},
        {"setting": "W_H of eq. 8", "value": "one d×d matrix w_h per head (a linear map on the "
                                             "concatenated heads)",
         "why": "The paper calls W_H a linear transformation without giving its shape."},
        {"setting": "splits",
         "value": f"census test file 1:1 (seed {config['census']['split_seed']}); Fashion-MNIST "
                  f"validation {fashion['validation_size']} from train "
                  f"(seed {fashion['split_seed']})",
         "why": "Following the MMoE paper for Census; the paper gives no validation split."},
    ]  # fmt: skip


def method_notes(config: dict) -> dict[str, list[str]]:
    """Per method, what its source paper leaves open and what we chose (from its module)."""
    from tranrep.models.registry import family_of

    return {name: list(family_of(m).open_choices) for name, m in config["methods"].items()}


def aggregate_settings(config: dict) -> dict:
    """What aggregation reads: the grid, the report's sampling and the choices to state."""
    used_files = sorted({f for d in datasets(config) for f in needed_files(config, d)})
    return {
        "experiment": config["experiment"],
        "seeds": config["seeds"],
        "problems": config["problems"],
        "methods": config["methods"],
        "grid": [list(pair) for pair in grid(config)],
        "sarcos_mode": config["sarcos"]["mode"],
        # report.pdf and report.ablations only concern rendering: they must not re-aggregate.
        "report": {k: v for k, v in config["report"].items() if k not in ("pdf", "ablations")},
        "data_hashes": {f: config["data"]["files"][f]["hash"] for f in used_files},
        "choices": choices(config),
        "method_notes": method_notes(config),
        "processed_folders": {d: processed_folder(config, d) for d in datasets(config)},
    }


def processed_folder(config: dict, dataset: str) -> str:
    """Folder name of a processed dataset; SARCOS's reduced mode gets its own."""
    if dataset == "sarcos" and config["sarcos"]["mode"] == "reduced":
        return "sarcos-reduced"
    return dataset
