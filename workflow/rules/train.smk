# One training job per (problem, method, seed).


rule train:
    input:
        lambda wc: processed_files(config["problems"][wc.problem]["dataset"]),
    output:
        expand(f"{RUNS}/{{{{problem}}}}/{{{{method}}}}/seed{{{{seed}}}}/{{name}}", name=RUN_FILES),
    params:
        settings=lambda wc: as_arg(
            settings.job_settings(config, wc.problem, wc.method, int(wc.seed))
        ),
        processed=lambda wc: f"{PROCESSED}/"
        + settings.processed_folder(config, config["problems"][wc.problem]["dataset"]),
    threads: config["threads_per_job"]
    resources:  # a cluster job's asks (profiles/slurm); peaks measured 0.6 GB Census, 1 GB FMNIST
        mem_mb=lambda wc: 6000 if config["problems"][wc.problem]["dataset"] == "census" else 3000,
        runtime=lambda wc, attempt: 120 * attempt,  # minutes; a resubmitted job gets more
        gpu=lambda wc: settings.train_gpus(config, wc.method),  # CUDA jobs: profiles/gpu, slurm
    log:
        f"{LOGS}/train/{{problem}}/{{method}}/seed{{seed}}.log",
    conda:
        "../../envs/environment.yaml"
    message:
        "Training {wildcards.method} on {wildcards.problem}, seed {wildcards.seed}"
    shell:
        "tranrep train --settings {params.settings} --processed-dir {params.processed}"
        " --out-dir {RUNS}/{wildcards.problem}/{wildcards.method}/seed{wildcards.seed}"
        " > {log} 2>&1"
