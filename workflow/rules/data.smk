# Acquisition (one job per raw file) and preprocessing to Parquet (one job per dataset).


# Downloads run where Snakemake runs, never as a cluster job: compute nodes are often offline.
localrules:
    acquire,


# Only the hash is a param: a file that verifies is the same file wherever it came from, so
# editing the list of sources reruns nothing. The sources reach the job through SOURCES_FILE.
rule acquire:
    output:
        f"{RAW}/{{file}}",
    params:
        hash=lambda wc: config["data"]["files"][wc.file]["hash"],
        mirror_env=config["data"]["mirror_env"],
        timeout=config["data"]["download_timeout_s"],
    log:
        f"{LOGS}/acquire/{{file}}.log",
    wildcard_constraints:
        file="|".join(re.escape(name) for name in config["data"]["files"]),
    conda:
        "../../envs/environment.yaml"
    message:
        "Acquiring {wildcards.file}"
    shell:
        "tranrep acquire --name {wildcards.file} --hash {params.hash}"
        " --sources-file {SOURCES_FILE} --raw-dir {RAW} --mirror-env {params.mirror_env}"
        " --timeout {params.timeout} > {log} 2>&1"


rule preprocess:
    input:
        lambda wc: raw_files(FOLDER_DATASET[wc.folder]),
    output:
        expand(f"{PROCESSED}/{{{{folder}}}}/{{split}}.parquet", split=SPLITS),
        f"{PROCESSED}/{{folder}}/card.json",
    params:
        dataset=lambda wc: FOLDER_DATASET[wc.folder],
        settings=lambda wc: as_arg(
            settings.preprocess_settings(config, FOLDER_DATASET[wc.folder])
        ),
        format=PROCESSED_FORMAT,  # a new layout of the processed files reruns this rule
    resources:  # a cluster job's asks (profiles/slurm); peak 0.7 GB measured
        mem_mb=3000,
        runtime=30,  # minutes
    log:
        f"{LOGS}/preprocess/{{folder}}.log",
    conda:
        "../../envs/environment.yaml"
    message:
        "Preprocessing {wildcards.folder} to Parquet"
    shell:
        "tranrep preprocess --dataset {params.dataset} --settings {params.settings}"
        " --raw-dir {RAW} --out-dir {PROCESSED}/{wildcards.folder} > {log} 2>&1"
