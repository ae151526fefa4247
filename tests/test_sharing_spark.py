"""The same linkage settings on Splink's Spark backend (a local Spark, one core).

Slow (a JVM and Spark start, then a few hundred small Spark jobs: minutes on the shared
test machine), so it runs with ``-m slow``; skipped without pyspark or Java.
"""

import shutil
import tempfile
import warnings

import pytest

from evalkit.sharing import evaluate_links, link
from evalkit.simulate_sources import demo_dictionary, demo_sources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime")
    from pyspark.sql import SparkSession
    from splink.internals.spark.jar_location import similarity_jar_location

    session = (
        SparkSession.builder.master("local[1]")
        .appName("evalkit-sharing-test")
        .config("spark.jars", similarity_jar_location())  # Splink's jaro_winkler etc.
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    checkpoints = tempfile.mkdtemp(prefix="evalkit-spark-")
    session.sparkContext.setCheckpointDir(checkpoints)
    yield session
    session.stop()
    shutil.rmtree(checkpoints, ignore_errors=True)


def test_same_settings_link_on_spark(spark):
    from splink import SparkAPI

    demo = demo_sources(300, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        on_spark = link(
            demo["sources"], demo_dictionary(), db_api=SparkAPI(spark_session=spark), max_pairs=2e4
        )
        on_duckdb = link(demo["sources"], demo_dictionary(), max_pairs=2e4)
    q_spark = evaluate_links(on_spark.links, demo["truth"])
    q_duck = evaluate_links(on_duckdb.links, demo["truth"])
    assert q_spark["precision"] >= 0.97 and q_spark["recall"] >= 0.97
    assert q_spark["precision"] == pytest.approx(q_duck["precision"], abs=0.02)
    assert q_spark["recall"] == pytest.approx(q_duck["recall"], abs=0.02)
    assert set(on_spark.quality.parameters["comparison"]) == set(
        on_duckdb.quality.parameters["comparison"]
    )
