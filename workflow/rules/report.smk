# Aggregation over seeds and the rendered report.


rule aggregate:
    input:
        runs=[
            run_files(problem, method, seed)
            for problem, method in settings.grid(config)
            for seed in config["seeds"]
        ],
        cards=[processed_files(d)[-1] for d in settings.datasets(config)],
    output:
        [f"{RESULTS}/{name}" for name in RESULT_FILES],
    params:
        settings=lambda wc: as_arg(settings.aggregate_settings(config)),
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
    output:
        html=REPORT_HTML,
        tex=REPORT_TEX,
        figures=directory(f"{REPORTS}/figures"),
    log:
        f"{LOGS}/report.log",
    conda:
        "../../envs/environment.yaml"
    message:
        "Rendering {output.html} and {output.tex}"
    shell:
        "tranrep report --results {RESULTS} --html {output.html} --tex {output.tex}"
        " --figures {output.figures} > {log} 2>&1"
