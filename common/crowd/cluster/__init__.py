"""Processing at scale: one task per session or segment on Ray Data, inputs from a folder or
an S3 bucket, outputs as Parquet shards with a dataset card.

Usage (what ``crowd dataset``, ``crowd idm prepare`` and the benchmarks call)::

    from crowd.serializer.dataset.sharded import run_dataset
    from crowd.idm.sharded import run_prepare
    r = run_dataset(["s3://crowd/bundles"], "out/", ray_address=None, num_cpus=2)
    r = run_prepare("s3://crowd/bundles", "clips/", ray_address="127.0.0.1:6379", num_cpus=None)

``ray_address=None`` starts a local Ray (``num_cpus`` caps it); an address joins a running
cluster; ``engine="local"`` runs the very same per-task function in a plain loop (small jobs,
no Ray). An ``s3://bucket/prefix`` source is read through boto3 from the endpoint in
``StoreSettings`` (``CROWD_S3_ENDPOINT`` or ``AWS_ENDPOINT_URL`` plus ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` by default: the embedded SeaweedFS or any S3 store).

The pieces here know nothing of datasets or clips: ``sources`` turns a folder or a bucket
prefix into sessions and fetches them, ``engine`` runs a function over task descriptions
(Ray imported lazily: the core install works without it), ``shards`` writes one Parquet file
per task atomically and the dataset card at the end. Each task's output is named by its key
and written by rename, so a task that Ray retries after its worker died replaces its own
file: no duplicate rows, whatever was killed when.
"""
