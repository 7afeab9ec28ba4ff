# The replication workflow: acquire raw files, preprocess to Parquet, train every
# (problem, method, seed), aggregate, render the report. All logic lives in src/tranrep;
# settings come from params.yaml (override with --configfile, e.g. workflow/offline.yaml).

from tranrep.config import validate_params

configfile: "params.yaml"


validate_params(config, source="params.yaml (merged with any --configfile)")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        REPORT_HTML,
        REPORT_TEX,
