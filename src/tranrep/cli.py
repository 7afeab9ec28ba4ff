"""Command line entry points called by the Snakemake rules (one subcommand per stage)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("tranrep")


def _json(text: str) -> dict:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SystemExit(f"--settings is not valid JSON: {error}") from error


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def cmd_validate(args: argparse.Namespace) -> None:
    from tranrep.config import load_params

    config = load_params(*args.params)
    log.info("%s: valid", ", ".join(args.params))
    if len(args.params) > 1 and config["experiment"] == "default":
        log.warning(
            "the overrides keep experiment 'default': their results would replace the default "
            "run's; set `experiment: <name>` to keep them apart"
        )


def cmd_acquire(args: argparse.Namespace) -> None:
    from tranrep.data.acquire import AcquisitionError, RawFileSpec, acquire
    from tranrep.io import read_json

    lists = read_json(args.sources_file)
    if args.name not in lists:
        raise ValueError(f"{args.sources_file}: no sources listed for {args.name!r}")
    spec_data = lists[args.name]
    spec = RawFileSpec(
        args.name, args.hash, tuple(spec_data["sources"]), spec_data.get("mirror_path", "")
    )
    mirror = os.environ.get(args.mirror_env) or None
    try:
        path = acquire(spec, Path(args.raw_dir), mirror=mirror, timeout_s=args.timeout)
    except AcquisitionError as error:
        hint = spec_data.get("hint")
        raise SystemExit(f"{error}\n{hint}" if hint else str(error)) from error
    log.info("acquired %s", path)


def cmd_preprocess(args: argparse.Namespace) -> None:
    settings = _json(args.settings)
    raw, out = Path(args.raw_dir), Path(args.out_dir)
    if args.dataset == "census":
        from tranrep.data.census import preprocess_census

        preprocess_census(
            raw / "census-income.data.gz", raw / "census-income.test.gz", out,
            settings["college_education"], settings["split_seed"],
        )  # fmt: skip
    elif args.dataset == "fashion_mnist":
        from tranrep.data.fashion_mnist import preprocess_fashion_mnist

        preprocess_fashion_mnist(
            raw / "train-images-idx3-ubyte.gz", raw / "train-labels-idx1-ubyte.gz",
            raw / "t10k-images-idx3-ubyte.gz", raw / "t10k-labels-idx1-ubyte.gz", out,
            settings["validation_size"], settings["split_seed"],
            {int(k): v for k, v in settings["class_to_group"].items()}, settings["group_names"],
        )  # fmt: skip
    else:
        from tranrep.data.sarcos import preprocess_sarcos

        standard = settings["mode"] == "standard"
        preprocess_sarcos(
            raw / "sarcos_inv_test.mat", out, settings["mode"], settings["validation_fraction"],
            settings["split_seed"], settings["reduced_fractions"],
            train_path=raw / "sarcos_inv.mat" if standard else None,
        )  # fmt: skip


def cmd_train(args: argparse.Namespace) -> None:
    from tranrep.data.problems import load_problem
    from tranrep.train import run_job

    settings = _json(args.settings)
    problem_cfg = settings["problem"]
    problem = load_problem(
        problem_cfg["name"], problem_cfg["dataset"], problem_cfg["tasks"], Path(args.processed_dir)
    )
    run_job(problem, settings, Path(args.out_dir))


def cmd_bench(args: argparse.Namespace) -> None:
    from tranrep.bench import run_bench
    from tranrep.config import load_params, processed_folder

    config = load_params(*args.params)
    problems = args.problems or list(config["problems"])
    methods = args.methods or list(config["methods"])
    for kind, names, known in (("problem", problems, config["problems"]),
                               ("method", methods, config["methods"])):  # fmt: skip
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"--{kind}s names {unknown}; expected some of {list(known)}")
    for problem in problems:
        dataset = config["problems"][problem]["dataset"]
        card = (
            Path(config["data"]["processed_dir"]) / processed_folder(config, dataset) / "card.json"
        )
        if not card.is_file():
            raise ValueError(f"{card}: no processed data for {problem!r}; run `make data` first")
    table = run_bench(config, problems, methods, args.steps, Path(args.out))
    shown = table.drop(columns=["kind"]).round(
        {"samples_per_s": 0, "dataloader_samples_per_s": 0, "ratio_vs_dataloader": 1,
         "peak_memory_mb": 0}
    )  # fmt: skip
    sys.stdout.write(shown.to_string(index=False) + f"\n(written to {args.out})\n")


def cmd_aggregate(args: argparse.Namespace) -> None:
    from tranrep.aggregate import aggregate

    aggregate(
        _json(args.settings), Path(args.runs_dir), Path(args.processed_dir), Path(args.out_dir)
    )


def cmd_report(args: argparse.Namespace) -> None:
    from tranrep.report.render import render_report

    ablations = [(Path(folder).name, Path(folder)) for folder in args.ablation]
    render_report(
        Path(args.results), Path(args.html), Path(args.tex), Path(args.figures),
        Path(args.tables), ablations,
    )  # fmt: skip


def cmd_pdf(args: argparse.Namespace) -> None:
    from tranrep.report.pdf import compile_pdf

    compile_pdf(Path(args.tex), Path(args.pdf))  # logs the path and page count


def cmd_dvc_yaml(args: argparse.Namespace) -> None:
    from tranrep.pipeline import write_dvc_yaml

    write_dvc_yaml(Path(args.out))
    log.info("wrote %s", args.out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tranrep", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    validate = sub.add_parser("validate", help="check params files against the schema")
    validate.add_argument("params", nargs="+", help="params.yaml, then override files")
    validate.set_defaults(func=cmd_validate)

    acquire = sub.add_parser("acquire", help="fetch and verify one raw file")
    acquire.add_argument("--name", required=True, help="the raw file's name")
    acquire.add_argument("--hash", required=True, help="sha256:<hex> or git-blob:<hex>")
    acquire.add_argument(
        "--sources-file", required=True, help="JSON: per file name, its sources and mirror_path"
    )
    acquire.add_argument("--raw-dir", required=True)
    acquire.add_argument("--mirror-env", default="TRAN_DATA_MIRROR")
    acquire.add_argument("--timeout", type=float, default=120.0)
    acquire.set_defaults(func=cmd_acquire)

    preprocess = sub.add_parser("preprocess", help="raw files of one dataset to Parquet")
    preprocess.add_argument(
        "--dataset", required=True, choices=["census", "fashion_mnist", "sarcos"]
    )
    preprocess.add_argument("--settings", required=True, help="JSON: the dataset's params")
    preprocess.add_argument("--raw-dir", required=True)
    preprocess.add_argument("--out-dir", required=True)
    preprocess.set_defaults(func=cmd_preprocess)

    train = sub.add_parser("train", help="train and test one (problem, method, seed)")
    train.add_argument("--settings", required=True, help="JSON from tranrep.config.job_settings")
    train.add_argument("--processed-dir", required=True)
    train.add_argument("--out-dir", required=True)
    train.set_defaults(func=cmd_train)

    bench = sub.add_parser(
        "bench", help="training throughput per method and problem, vs a plain DataLoader"
    )
    bench.add_argument("--params", nargs="+", default=["params.yaml"], help="params and overrides")
    bench.add_argument("--problems", nargs="*", help="default: every configured problem")
    bench.add_argument("--methods", nargs="*", help="default: every configured method")
    bench.add_argument(
        "--steps", type=_positive_int, default=60, help="mini-batches timed per loop (>= 1)"
    )
    bench.add_argument("--out", default="data/bench/bench.csv")
    bench.set_defaults(func=cmd_bench)

    aggregate = sub.add_parser("aggregate", help="collect every job's results into tables")
    aggregate.add_argument("--settings", required=True)
    aggregate.add_argument("--runs-dir", required=True)
    aggregate.add_argument("--processed-dir", required=True)
    aggregate.add_argument("--out-dir", required=True)
    aggregate.set_defaults(func=cmd_aggregate)

    report = sub.add_parser("report", help="render the HTML and LaTeX report, figures, CSVs")
    report.add_argument("--results", required=True)
    report.add_argument("--html", required=True)
    report.add_argument("--tex", required=True)
    report.add_argument("--figures", required=True, help="folder for the PNG figures")
    report.add_argument("--tables", required=True, help="folder for the tables as CSV")
    report.add_argument(
        "--ablation", action="append", default=[], metavar="RESULTS_DIR",
        help="an ablation experiment's results folder to compare with (repeatable)",
    )  # fmt: skip
    report.set_defaults(func=cmd_report)

    pdf = sub.add_parser("pdf", help="compile the LaTeX report to PDF with pdflatex")
    pdf.add_argument("--tex", required=True, help="the report's .tex (figures relative to it)")
    pdf.add_argument("--pdf", required=True, help="where to write the PDF")
    pdf.set_defaults(func=cmd_pdf)
    dvc_yaml = sub.add_parser("dvc-yaml", help="write dvc.yaml from the pipeline's stage table")
    dvc_yaml.add_argument("--out", default="dvc.yaml")
    dvc_yaml.set_defaults(func=cmd_dvc_yaml)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        args.func(args)
    except (ValueError, RuntimeError, OSError) as error:
        log.error("%s", error)
        raise SystemExit(1) from error
    except KeyError as error:
        log.error("`tranrep %s`: an input lacks the expected key %s", args.command, error)
        raise SystemExit(1) from error


if __name__ == "__main__":
    main()
