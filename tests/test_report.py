"""Tests of the replication report (HTML, LaTeX and figures) on a made-up results folder."""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from tests.report_fixture import PROBLEMS, build_results_dir
from tranrep.report.latex import tex_escape
from tranrep.report.render import render_report
from tranrep.report.results import display_names, load_results, problem_infos
from tranrep.report.sections import flatten
from tranrep.report.tables import (
    Cell,
    Column,
    ColumnGroup,
    ResultTable,
    Row,
    _best_flags,
    build_result_tables,
)
from tranrep.report.wins import count_wins

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Rendered:
    """Paths of one rendered report."""

    results: Path
    html_path: Path
    tex_path: Path
    figures: Path

    @property
    def html(self) -> str:
        return self.html_path.read_text(encoding="utf-8")

    @property
    def tex(self) -> str:
        return self.tex_path.read_text(encoding="utf-8")


def render_into(root: Path, results: Path) -> Rendered:
    """Render ``results`` into ``root/reports`` as the pipeline would."""
    out = Rendered(
        results=results,
        html_path=root / "reports" / "replication.html",
        tex_path=root / "reports" / "replication.tex",
        figures=root / "reports" / "figures",
    )
    render_report(results, out.html_path, out.tex_path, out.figures)
    return out


def build_and_render(root: Path, sarcos_mode: str = "reduced") -> Rendered:
    return render_into(root, build_results_dir(root, sarcos_mode=sarcos_mode))


def set_summary_mean(results: Path, problem: str, method: str, task: str, mean: float) -> None:
    """Overwrite one mean in the fixture's summary.csv."""
    path = results / "summary.csv"
    summary = pd.read_csv(path)
    mask = (summary.problem == problem) & (summary.method == method) & (summary.task == task)
    assert mask.sum() == 1
    summary.loc[mask, "mean"] = mean
    summary.to_csv(path, index=False)


def summary_row(results: Path, problem: str, method: str, task: str) -> pd.Series:
    summary = pd.read_csv(results / "summary.csv")
    mask = (summary.problem == problem) & (summary.method == method) & (summary.task == task)
    return summary[mask].iloc[0]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """The fixture's report, rendered once for the read-only tests."""
    return build_and_render(tmp_path_factory.mktemp("report"))


class _ImgCollector(HTMLParser):
    """Collects the attributes of <img>, <link>, <script> tags."""

    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[dict[str, str | None]] = []
        self.external: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "img":
            self.imgs.append(attributes)
        elif tag in {"link", "script"} and (attributes.get("href") or attributes.get("src")):
            self.external.append((tag, attributes))


def _ours_cell_html(mean: float, std: float, n: int, decimals: int) -> str:
    return f'{mean:.{decimals}f} ± {std:.{decimals}f} <span class="n">(n={n})</span>'


# --------------------------------------------------------------------------------------------
# Numbers in the tables


def test_html_shows_summary_values_formatted_as_in_the_table(report: Rendered) -> None:
    auc = summary_row(report.results, "census_group1", "tran", "income")
    rmse = summary_row(report.results, "sarcos", "mmoe", "torque_1")
    html = report.html
    assert _ours_cell_html(auc["mean"], auc["std"], int(auc["n"]), 4) in html
    assert _ours_cell_html(rmse["mean"], rmse["std"], int(rmse["n"]), 3) in html
    diff = rmse["mean"] - rmse["paper_value"]
    assert f'<td class="diff">{diff:+.3f}</td>' in html


def test_paper_only_methods_are_shown_with_empty_ours(report: Rendered) -> None:
    html = report.html
    lasso_row = html.split('<tr data-method="lasso">', 1)[1].split("</tr>", 1)[0]
    assert "LASSO" in lasso_row
    assert '<td class="paper">0.8849</td>' in lasso_row  # Table 1, group I income
    assert '<td class="ours"></td>' in lasso_row
    assert '<tr data-method="mran">' in html  # Table 3 only
    assert '<td class="paper">2.879</td>' in html
    assert '<tr data-method="tran_static">' in html  # an extra method of ours


def test_changing_one_summary_value_changes_the_html(report: Rendered, tmp_path: Path) -> None:
    results = shutil.copytree(report.results, tmp_path / "results")
    set_summary_mean(results, "fashion_mnist", "mmoe", "class10", 0.43217)
    after = render_into(tmp_path, results).html
    before = report.html
    assert before != after
    assert "0.4322 ± " not in before
    assert "0.4322 ± " in after


def test_table_one_has_the_papers_four_columns(report: Rendered) -> None:
    results = load_results(report.results)
    infos = problem_infos(results)
    tables = build_result_tables(results, infos, display_names(results.context))
    assert [t.key for t in tables] == ["1", "2", "3"]
    columns = [(c.problem, c.task) for c in tables[0].columns]
    assert columns == [
        ("census_group1", "income"),
        ("census_group1", "marital"),
        ("census_group2", "education"),
        ("census_group2", "marital"),
    ]
    # Rows in the paper's Table 3 order (as transcribed row by row in paper_values.csv), then
    # the methods only we ran.
    paper_rows = list(results.paper.loc[results.paper["table"] == 3, "method"].unique())
    assert len(paper_rows) == 10
    methods = [r.method for r in tables[2].rows]
    assert methods == [*paper_rows, "tran_static"]


# --------------------------------------------------------------------------------------------
# Best per column


def _best_methods(table: ResultTable, task: str) -> list[str]:
    j = [c.task for c in table.columns].index(task)
    return [row.method for row in table.rows if row.cells[j].best]


@pytest.fixture(scope="module")
def modified(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """A report whose best-per-column and win counts were changed on purpose."""
    root = tmp_path_factory.mktemp("modified")
    results = build_results_dir(root)
    set_summary_mean(results, "fashion_mnist", "nn", "class10", 0.9991)  # highest accuracy
    set_summary_mean(results, "sarcos", "mmoe", "torque_1", 0.5)  # lowest RMSE
    set_summary_mean(results, "sarcos", "tran", "torque_2", 99.0)  # worst RMSE
    return render_into(root, results)


def _table_html(html: str, key: str) -> str:
    return html.split(f'<h3 id="table-{key}">', 1)[1].split("</table>", 1)[0]


def _row_html(table_html: str, method: str) -> str:
    return table_html.split(f'<tr data-method="{method}">', 1)[1].split("</tr>", 1)[0]


def test_best_per_column_is_highest_accuracy_and_lowest_rmse(modified: Rendered) -> None:
    results = load_results(modified.results)
    tables = build_result_tables(results, problem_infos(results), display_names(results.context))
    assert _best_methods(tables[1], "class10") == ["nn"]
    assert _best_methods(tables[2], "torque_1") == ["mmoe"]
    assert "tran" not in _best_methods(tables[2], "torque_2")
    assert _best_methods(tables[2], "torque_2") == ["mh_tran"]

    table2 = _table_html(modified.html, "2")
    table3 = _table_html(modified.html, "3")
    assert '<td class="ours best"><strong>0.9991 ± ' in _row_html(table2, "nn")
    assert "<strong>" not in _row_html(table2, "tran").split("</td>", 1)[0]
    assert '<td class="ours best"><strong>0.500 ± ' in _row_html(table3, "mmoe")
    assert "<strong>99.000" not in table3
    assert r"\textbf{0.500 $\pm$" in modified.tex


def test_summary_statement_is_computed(report: Rendered, modified: Rendered) -> None:
    def statement(html: str) -> str:
        return html.split('<p id="win-statement">', 1)[1].split("</p>", 1)[0]

    assert "TRAN won 13 of 13 cells, MH-TRAN 13 of 13" in statement(report.html)
    # MMoE now wins torque_1 and NN class10; TRAN also loses torque_2.
    assert "TRAN won 10 of 13 cells, MH-TRAN 11 of 13" in statement(modified.html)
    assert "at least one of the two 11 of 13" in statement(modified.html)


def test_best_flags_mark_ties_and_skip_missing() -> None:
    assert _best_flags([0.9, math.nan, 0.95, 0.95], "auc") == [False, False, True, True]
    assert _best_flags([2.0, 1.0, math.nan], "rmse") == [False, True, False]
    assert _best_flags([math.nan, math.nan], "accuracy") == [False, False]


def test_win_count_skips_cells_without_comparators() -> None:
    column = Column("p", "t", "rmse")
    cells = {
        "nn": Cell("rmse", mean=2.0),
        "tran": Cell("rmse", mean=1.0),
        "mh_tran": Cell("rmse", mean=2.5),
        "lasso": Cell("rmse", paper=0.5),
    }
    rows = tuple(Row(m, m, (c,)) for m, c in cells.items())
    table = ResultTable("x", "x", "", (ColumnGroup("p", 1),), (column,), rows)
    tran, mh, either = count_wins([table], lambda c: c.mean, {})
    assert (tran.wins, tran.cells) == (1, 1)
    assert (mh.wins, mh.cells) == (0, 1)
    assert (either.wins, either.cells) == (1, 1)
    tran_p, _, either_p = count_wins([table], lambda c: c.paper, {})
    assert (tran_p.cells, either_p.cells) == (0, 0)  # no TRAN value in the paper column


# --------------------------------------------------------------------------------------------
# Reduced SARCOS warning


@pytest.mark.parametrize("mode", ["reduced", "standard"])
def test_reduced_warning_appears_iff_sarcos_mode_is_reduced(
    report: Rendered, tmp_path: Path, mode: str
) -> None:
    rendered = report if mode == "reduced" else build_and_render(tmp_path, sarcos_mode=mode)
    html, tex = rendered.html, rendered.tex
    reduced = mode == "reduced"
    assert ('id="reduced-data-warning"' in html) is reduced
    assert ("REDUCED DATA" in html) is reduced
    assert ("WARNING: SARCOS ON REDUCED DATA" in tex) is reduced
    table3_caption = tex.split(r"\label{tab:3}", 1)[0].rsplit(r"\caption{", 1)[1]
    assert table3_caption.startswith("Performance comparison on SARCOS")
    assert ("REDUCED DATA" in table3_caption) is reduced


# --------------------------------------------------------------------------------------------
# Self-contained HTML and figures


def test_every_img_is_an_embedded_png(report: Rendered) -> None:
    parser = _ImgCollector()
    parser.feed(report.html)
    pngs = sorted(report.figures.glob("*.png"))
    assert len(parser.imgs) == len(pngs) > 0
    for img in parser.imgs:
        src = img.get("src") or ""
        assert src.startswith("data:image/png;base64,"), src[:60]
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_MAGIC)
        assert img.get("alt")
    assert parser.external == []
    assert 'name="viewport"' in report.html
    assert "overflow-x: auto" in report.html


def test_figures_are_written_as_png_files(report: Rendered) -> None:
    expected = [f"fig2-attention-{p.replace('_', '-')}-tran.png" for p in PROBLEMS]
    expected += [f"fig2-attention-{p.replace('_', '-')}-mh-tran.png" for p in PROBLEMS]
    expected += ["fig3-samples-sarcos-tran.png"]
    expected += [f"curves-{p.replace('_', '-')}.png" for p in PROBLEMS]
    for name in expected:
        path = report.figures / name
        assert path.is_file(), name
        assert path.read_bytes()[:8] == PNG_MAGIC
    leftovers = [p.name for p in report.html_path.parent.rglob("*.tmp")]
    assert leftovers == []


def test_figure3_reports_the_mean_per_entry_std(report: Rendered) -> None:
    assert "Std of each entry of A across all test samples: mean 0." in report.html


# --------------------------------------------------------------------------------------------
# LaTeX


def test_tex_escapes_task_names_and_special_characters(report: Rendered) -> None:
    tex = report.tex
    assert r"torque\_1" in tex
    assert r"census\_income" in tex  # a data-card title
    assert r"100\% of degrees \{incl. \$ \textasciitilde{} \textasciicircum{} \#" in tex
    assert r"associate degrees \& up" in tex
    for line in tex.splitlines():
        if r"\includegraphics" in line:
            continue
        assert not re.search(r"(?<!\\)_", line), line


def test_tex_includes_figures_relative_to_the_tex_file(report: Rendered) -> None:
    paths = re.findall(r"\\includegraphics\[[^\]]*\]\{([^}]*)\}", report.tex)
    assert paths
    for relative in paths:
        assert not Path(relative).is_absolute()
        assert (report.tex_path.parent / relative).is_file(), relative
    assert r"\usepackage{booktabs}" in report.tex


def test_tex_is_structurally_sound(report: Rendered) -> None:
    """Stands in for pdflatex where TeX is missing: balanced braces and environments."""
    tex = report.tex
    unescaped = tex.replace("\\{", "").replace("\\}", "")
    depth = 0
    for char in unescaped:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0
    begins = re.findall(r"\\begin\{(\w+)\}", tex)
    for env in set(begins):
        assert begins.count(env) == len(re.findall(rf"\\end\{{{env}\}}", tex)), env
    for body in re.findall(r"\\begin\{(?:long)?table\}(.*?)\\end\{(?:long)?table\}", tex, re.S):
        assert "\n\n" not in body  # a blank line (\par) inside a table breaks pdflatex


def test_tex_escape_unit() -> None:
    assert tex_escape("a_b & 50% #1 {x}") == r"a\_b \& 50\% \#1 \{x\}"
    assert tex_escape("0.9 ± 0.1 − 1") == r"0.9 $\pm$ 0.1 $-$ 1"
    assert (
        tex_escape("C:\\path ~ ^") == r"C:\textbackslash{}path \textasciitilde{} \textasciicircum{}"
    )
    assert tex_escape("日本") == "??"


def test_flatten_dotted_keys_and_long_lists() -> None:
    card = {"rows": {"train": 10, "test": {"a": 1.5}}, "ids": list(range(20)), "names": ["a", "b"]}
    assert flatten(card) == [
        ("rows.train", "10"),
        ("rows.test.a", "1.5"),
        ("ids", "list of 20 items"),
        ("names", "a, b"),
    ]


def test_budget_note_counts_jobs_still_improving_at_their_last_epoch():
    from types import SimpleNamespace

    from tranrep.report.render import _budget_note

    jobs = pd.DataFrame(
        {"problem": ["a", "a", "b"], "best_epoch": [5, 3, 9], "epochs_run": [5, 8, 9]}
    )
    note = _budget_note(SimpleNamespace(jobs=jobs))
    assert note.startswith("2 of 3 neural training jobs were still improving")
    assert note.endswith("a 1/2, b 1/1.")


def test_label_correlation_compares_sizes():
    from tranrep.report.sections import correlation_table

    context = {"label_correlations": {"census_group1": {"ours": -0.1782, "paper": 0.1784}}}
    table = correlation_table(context, {})
    assert table.rows[0][2:] == ("-0.1782", "0.1782", "0.1784", "-0.0002")


def test_budget_note_leaves_linear_fits_out_and_names_unconverged_solvers():
    from types import SimpleNamespace

    from tranrep.report.render import _budget_note

    jobs = pd.DataFrame(
        {"problem": ["a", "a", "a", "b"], "method": ["tran", "lasso", "bayesian", "lasso"],
         "kind": ["neural", "linear", "linear", "linear"], "best_epoch": [3, 1, 1, 1],
         "epochs_run": [8, 1, 1, 1], "solver_converged": [None, False, True, False]}
    )  # fmt: skip
    note = _budget_note(SimpleNamespace(jobs=jobs))
    assert note.startswith("Every neural training job stopped early")
    assert "2 of 3 linear fits stopped at their solver's iteration limit" in note
    assert note.endswith("a/lasso, b/lasso.")


# --------------------------------------------------------------------------------------------
# A results folder that would mislead the report is refused, naming the file and the field


def _broken_copy(report: Rendered, tmp_path: Path, name: str, edit) -> Path:
    results = shutil.copytree(report.results, tmp_path / "results")
    path = results / name
    if name.endswith(".csv"):
        frame = pd.read_csv(path, comment="#")
        frame = edit(frame)
        frame.to_csv(path, index=False)
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
        edit(data)
        path.write_text(json.dumps(data), encoding="utf-8")
    return results


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        ("runs.csv", lambda f: f.drop(columns="seed"), r"runs\.csv: missing column.*'seed'"),
        ("runs.csv", lambda f: pd.concat([f, f.head(1)]), r"runs\.csv: 2 rows repeat the key"),
        ("runs.csv", lambda f: f.assign(value=f["value"].astype(object).where(f.index > 0, "abc")),
         r"runs\.csv: column 'value' holds 'abc' \(row 2\); expected a number"),
        ("summary.csv", lambda f: f.assign(metric="RMSE"),
         r"summary\.csv: column 'metric' holds \['RMSE'\]; expected one of"),
        ("context.json", lambda d: d.update(sarcos_mode="reduce"),
         r"context\.json: sarcos_mode is 'reduce'; expected one of"),
        ("context.json", lambda d: d["report"].update(alpha=1.5),
         r"context\.json: report\.alpha is 1\.5; expected a number in \(0, 1\)"),
        ("attention.json", lambda d: d["sarcos"]["tran"].update(mean=[[0.5, 0.5]]),
         r"attention\.json: sarcos\.tran\.mean: shape \(1, 2\); expected \(7, 7\)"),
        ("paper_values.csv", lambda f: f.assign(source=f["source"].replace("Table 1", "Tabel 1")),
         r"paper_values\.csv: source 'Tabel 1'"),
        ("paper_values.csv", lambda f: pd.concat([f, f.tail(1)]),
         r"paper_values\.csv: 2 rows repeat the key \(source, problem, method, task, metric\)"),
    ],
)  # fmt: skip
def test_a_misleading_results_folder_is_refused(
    report: Rendered, tmp_path: Path, name: str, edit, message: str
) -> None:
    results = _broken_copy(report, tmp_path, name, edit)
    with pytest.raises(ValueError, match=message):
        render_into(tmp_path, results)
    assert not (tmp_path / "reports" / "replication.html").exists()
