# The replication workflow: acquire raw files, preprocess to Parquet, train every
# (problem, method, seed), aggregate, render the report. All logic lives in src/tranrep;
# settings come from params.yaml (override with --configfile, e.g. workflow/offline.yaml).

import sys

from tranrep.config import ConfigError, validate_params

configfile: "params.yaml"


try:
    validate_params(config, ", ".join(["params.yaml", *map(str, workflow.overwrite_configfiles)]))
except ConfigError as error:
    sys.exit(f"Invalid settings: {error}")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/report.smk"


# One target per DVC stage (src/tranrep/pipeline.py): raw_data, processed_data, trained,
# aggregated, all. Every output of the report is requested: Snakemake checks only requested
# outputs for being missing, so a report folder added by an update of the pipeline is made.
rule all:
    default_target: True
    input:
        rules.report.output,
        [REPORT_PDF] if config["report"]["pdf"] else [],


rule raw_data:
    input:
        [f for d in settings.datasets(config) for f in raw_files(d)],


rule processed_data:
    input:
        [f for d in settings.datasets(config) for f in processed_files(d)],


rule trained:
    input:
        rules.aggregate.input.runs,


rule aggregated:
    input:
        rules.aggregate.output,
