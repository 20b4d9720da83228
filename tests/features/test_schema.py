"""cqt_array: a CQT cell from each Parquet reader → the (frames, 264) array that was written."""

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from bassnet.errors import DataError
from bassnet.features.schema import cqt_array, failures_path, rows_to_table


@pytest.fixture(scope="module")
def shard(tmp_path_factory):
    """A shard of two rows written by the job's own table builder, CQTs of known float16
    values: 7 frames in "a" (the same in both columns), 3 in "b"."""
    rng = np.random.default_rng(0)
    cqt = rng.normal(-7.5, 1.2, (7, 264)).astype(np.float16)
    rows = [
        {"track_id": "a", "n_frames": 7, "cqt_mix": cqt, "cqt_bass": cqt},
        {"track_id": "b", "n_frames": 3, "cqt_mix": cqt[4:], "cqt_bass": cqt[:3]},
    ]
    path = tmp_path_factory.mktemp("shard") / "part-00000-of-00001.parquet"
    pq.write_table(rows_to_table(rows), path)
    return path, cqt


def test_every_reader_gives_back_the_array(shard):
    path, cqt = shard
    table = pq.read_table(path)
    pandas = pd.read_parquet(path)
    cells = {
        "pyarrow scalar": table["cqt_mix"][0],
        "to_pylist": table.to_pylist()[0]["cqt_mix"],
        "pandas cell": pandas["cqt_mix"].iloc[0],
        "duckdb": duckdb.sql(f"select cqt_mix from '{path}' order by track_id").fetchall()[0][0],
    }
    pl = pytest.importorskip("polars")
    cells["polars cell"] = pl.read_parquet(path)["cqt_mix"][0]
    for reader, cell in cells.items():
        got = cqt_array(cell)
        assert got.dtype == np.float32 and got.shape == (7, 264), reader
        np.testing.assert_array_equal(got, cqt.astype(np.float32), err_msg=reader)
        assert cqt_array(cell, dtype=np.float16).dtype == np.float16
    rows = {
        "dict": table.to_pylist()[0],
        "pandas row": pandas.iloc[0],
        "polars row": pl.read_parquet(path).row(0, named=True),
    }
    for reader, row in rows.items():
        np.testing.assert_array_equal(cqt_array(row, "cqt_bass", np.float16), cqt, reader)


def test_each_row_gives_its_own_frames(shard):
    path, cqt = shard
    table = pq.read_table(path)
    np.testing.assert_array_equal(cqt_array(table["cqt_mix"][1], dtype=np.float16), cqt[4:])
    np.testing.assert_array_equal(cqt_array(table["cqt_bass"][1], dtype=np.float16), cqt[:3])
    assert cqt_array([]).shape == (0, 264)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (None, "null"),
        (np.zeros((5, 263)), r"expected \(frames, 264\), got shape \(5, 263\)"),
        (np.zeros(264), r"got shape \(264,\)"),
    ],
)
def test_a_cell_that_is_no_cqt_is_a_named_error(cell, message):
    with pytest.raises(DataError, match=message):
        cqt_array(cell)


def test_a_table_is_not_a_row(shard):
    for table in (pq.read_table(shard[0]), pd.read_parquet(shard[0]), [[0.0] * 264]):
        with pytest.raises(DataError, match="a row with column 'cqt_mix' expected"):
            cqt_array(table, "cqt_mix")


def test_failures_lie_beside_the_folder(tmp_path):
    assert failures_path(tmp_path / "A1") == tmp_path / "A1.failures.json"
    assert failures_path(f"{tmp_path}/A1/") == tmp_path / "A1.failures.json"
    with pytest.raises(DataError, match="filesystem root"):
        failures_path("/")
