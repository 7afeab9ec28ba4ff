# Aggregation over seeds, the rendered report and its PDF.


rule aggregate:
    input:
        runs=[
            run_files(problem, method, seed)
            for problem, method in settings.grid(config)
            for seed in config["seeds"]
        ],
        processed=[f for d in settings.datasets(config) for f in processed_files(d)],
    output:
        [f"{RESULTS}/{name}" for name in RESULT_FILES],
    params:
        settings=lambda wc: as_arg(settings.aggregate_settings(config)),
        format=RESULTS_FORMAT,  # a change in what aggregation computes reruns this rule
    resources:
        mem_mb=4000,
        runtime=30,
    log:
        f"{LOGS}/aggregate.log",
    conda:
        "../../envs/environment.yaml"
    message:
        "Aggregating {EXPERIMENT} over seeds"
    shell:
        "tranrep aggregate --settings {params.settings} --runs-dir {RUNS}"
        " --processed-dir {PROCESSED} --out-dir {RESULTS} > {log} 2>&1"


rule report:
    input:
        [f"{RESULTS}/{name}" for name in RESULT_FILES],
        ablations=[
            f"data/results/{name}/{file}"
            for name in config["report"]["ablations"]
            for file in ("summary.csv", "context.json")
        ],
    output:
        html=REPORT_HTML,
        tex=REPORT_TEX,
        figures=directory(f"{REPORTS}/figures"),
        tables=directory(f"{REPORTS}/tables"),
    params:
        ablations=" ".join(
            f"--ablation data/results/{name}" for name in config["report"]["ablations"]
        ),
    resources:
        mem_mb=4000,
        runtime=30,
    log:
        f"{LOGS}/report.log",
    conda:
        "../../envs/environment.yaml"
    message:
        "Rendering {output.html} and {output.tex}"
    shell:
        "tranrep report --results {RESULTS} --html {output.html} --tex {output.tex}"
        " --figures {output.figures} --tables {output.tables} {params.ablations} > {log} 2>&1"


rule pdf:
    input:
        tex=REPORT_TEX,
        figures=rules.report.output.figures,
    output:
        REPORT_PDF,
    resources:
        mem_mb=2000,
        runtime=15,
    log:
        f"{LOGS}/pdf.log",
    conda:
        "../../envs/environment.yaml"
    message:
        "Compiling {output} with pdflatex"
    shell:
        "tranrep pdf --tex {input.tex} --pdf {output} > {log} 2>&1"
