"""Which episodes and judgements become rows, and what the rows hold."""

from __future__ import annotations

import pytest
from export_helpers import (
    SYSTEM,
    MakeRun,
    episode,
    make_run_fixture,  # noqa: F401  (the make_run fixture)
    message,
    pairwise,
    rubric,
    tool_turns,
)

from simulacra.errors import ConfigError, RunError
from simulacra.export import ExportConfig, build_dataset


def talk(reply: str, *, user: str = "where is order 7") -> list:
    return [message("user", user), message("assistant", reply)]


def test_sft_rows_are_the_assistants_view_with_tools_and_sources(make_run: MakeRun) -> None:
    run = make_run([episode("e1", tool_turns())])
    (row,) = build_dataset(run, ExportConfig(format="sft")).rows
    assert [m["role"] for m in row["messages"]] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
    ]
    assert row["message_source"] == ["system", "simulated_user", "target", "tool", "target"]
    assert row["messages"][0]["content"] == SYSTEM
    call = row["messages"][2]["tool_calls"][0]
    assert call == {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_order", "arguments": '{"order_id": "7"}'},
    }
    assert row["messages"][3] == {
        "role": "tool",
        "content": '{"status": "shipped"}',
        "tool_call_id": "call_1",
        "name": "get_order",
    }
    # the closing "thanks" answers nothing the assistant said: it is not kept
    assert row["messages"][-1]["content"] == "Order 7 has shipped."
    assert "meta" not in row["messages"][1]
    assert row["episode_id"] == "e1" and row["persona"] == "busy-nurse"


def test_the_simulated_users_own_tool_calls_are_not_training_data(make_run: MakeRun) -> None:
    # a user who operates their own phone (as in the telecom domain): the calls and their
    # results are in the episode, but the assistant never saw them
    own = {"by": "user"}
    call = {"id": "u1", "type": "function", "function": {"name": "toggle_airplane_mode"}}
    turns = [
        message("user", "my phone has no signal"),
        message("assistant", "Please turn airplane mode off."),
        message("user", "", tool_calls=[call], meta=own),
        message("tool", "Airplane mode: off", tool_call_id="u1", meta=own),
        message("user", "done, it works now"),
        message("assistant", "Glad it works."),
    ]
    run = make_run([episode("e1", turns)])
    (row,) = build_dataset(run, ExportConfig(format="sft")).rows
    assert [m["role"] for m in row["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
    ]
    assert row["messages"][3]["content"] == "done, it works now"
    assert all("tool_calls" not in m for m in row["messages"])


def test_the_system_prompt_can_be_dropped_and_an_http_target_has_none(make_run: MakeRun) -> None:
    run = make_run([episode("e1", tool_turns())])
    (row,) = build_dataset(run, ExportConfig(system_prompt=False)).rows
    assert row["messages"][0]["role"] == "user"
    http = make_run([episode("e1", tool_turns())], name="http", target={"type": "http"})
    (row,) = build_dataset(http, ExportConfig()).rows
    assert row["message_source"][0] == "simulated_user"


def test_sft_filters(make_run: MakeRun) -> None:
    run = make_run(
        [
            episode("ok", talk("shipped"), persona="busy-nurse", task="order-status"),
            episode("failed", talk("no idea"), success=False),
            episode("fell-back", talk("shipped"), fallback=True),
            episode("gamer", talk("shipped"), persona="teen-gamer"),
            episode("full", talk("shipped"), mode="full"),
            episode("refund", talk("shipped"), task="refund-1"),
            episode("broken", [], status="error", success=None),
        ],
        [rubric("ok", 5), rubric("ok", 4, "clarity"), rubric("gamer", 2), rubric("full", None)],
    )

    def kept(**settings: object) -> set[str]:
        return {r["episode_id"] for r in build_dataset(run, ExportConfig(**settings)).rows}

    everything = {"ok", "failed", "fell-back", "gamer", "full", "refund"}
    assert kept() == everything  # an errored episode never becomes data
    assert kept(successful_only=True) == everything - {"failed"}
    assert kept(no_fallbacks=True) == everything - {"fell-back"}
    assert kept(personas=("busy-*",)) == everything - {"gamer"}
    assert kept(tasks=("refund-*", "nothing")) == {"refund"}
    assert kept(modes=("full",)) == {"full"}
    # mean of 5 and 4; the gamer's 2 is too low; an abstention is no score
    assert kept(min_judge_score=4.0) == {"ok"}
    dataset = build_dataset(run, ExportConfig(min_judge_score=4.0))
    assert dataset.rows[0]["judge_score"] == 4.5
    assert dataset.dropped["no judge score"] == 4
    assert dataset.dropped["judge score below the minimum"] == 1
    assert dataset.dropped["the episode errored"] == 1


def test_nothing_left_is_an_error_saying_why(make_run: MakeRun) -> None:
    run = make_run([episode("failed", talk("no idea"), success=False)])
    with pytest.raises(ConfigError, match=r"nothing to export as sft.*task check did not pass: 1"):
        build_dataset(run, ExportConfig(successful_only=True))
    with pytest.raises(ConfigError, match="needs pairwise judgements"):
        build_dataset(run, ExportConfig(format="dpo"))
    with pytest.raises(RunError, match="no such directory"):
        build_dataset(run / "missing")


def test_settings_that_do_not_fit_the_format_are_refused() -> None:
    with pytest.raises(ValueError, match="successful_only is not for dpo"):
        ExportConfig(format="dpo", successful_only=True)
    with pytest.raises(ValueError, match="min_judge_score is not for kto"):
        ExportConfig(format="kto", min_judge_score=3)
    with pytest.raises(ValueError, match="unknown export format 'csv'"):
        ExportConfig(format="csv")


def test_dpo_from_verdicts_with_the_shared_prompt(make_run: MakeRun) -> None:
    a = episode("a", talk("It shipped on Monday."), repeat=0)
    b = episode("b", talk("Sorry, I can't tell."), repeat=1, success=False)
    c = episode("c", talk("It is on its way."), repeat=2)
    run = make_run(
        [a, b, c],
        [
            # two raters agree on A over B; shown first: A once, B once
            pairwise("a", "b", "A", rater="r1", first_shown="A", len_a=21, len_b=20),
            pairwise("a", "b", "A", rater="r2", first_shown="B", len_a=21, len_b=20),
            pairwise("b", "c", "tie"),  # a tie teaches nothing: dropped
            pairwise("a", "c", None),  # an abstention: dropped
        ],
    )
    dataset = build_dataset(run, ExportConfig(format="dpo"))
    (row,) = dataset.rows
    assert row["prompt"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "where is order 7"},
    ]
    assert row["chosen"] == [{"role": "assistant", "content": "It shipped on Monday."}]
    assert row["rejected"] == [{"role": "assistant", "content": "Sorry, I can't tell."}]
    assert row["prompt_source"] == ["system", "simulated_user"]
    assert (row["episode_chosen"], row["episode_rejected"]) == ("a", "b")
    assert (row["correct_chosen"], row["correct_rejected"]) == (True, False)
    assert row["raters"] == 2 and row["agreement"] == 1.0 and row["preference"] == 1.0
    assert row["winner_shown_first"] == 0.5
    assert row["len_chosen"] == 21 and row["chosen_longer"] is True
    assert row["swap_consistent"] is None  # judged in one order only
    assert dataset.dropped == {"tie": 1, "every rater abstained": 1}


def test_dpo_the_crowd_decides_and_b_can_win(make_run: MakeRun) -> None:
    a = episode("a", talk("It shipped."), repeat=0)
    b = episode("b", talk("Your order shipped on Monday."), repeat=1)
    run = make_run(
        [a, b],
        [
            pairwise("a", "b", "B", rater="r1", orders=["B", "B"]),
            pairwise("a", "b", "B", rater="r2", orders=["B", "A"]),
            pairwise("a", "b", "A", rater="r3"),
        ],
    )
    (row,) = build_dataset(run, ExportConfig(format="dpo")).rows
    assert row["chosen_side"] == "B" and row["episode_chosen"] == "b"
    assert row["chosen"][0]["content"] == "Your order shipped on Monday."
    assert row["agreement"] == pytest.approx(2 / 3)
    assert row["swap_consistent"] is False  # r2 changed its mind with the order


def test_pairs_part_at_the_assistant_not_at_the_simulated_user(make_run: MakeRun) -> None:
    opening = [message("user", "where is order 7"), message("assistant", "Which order?")]
    a = episode("a", [*opening, message("user", "order 7"), message("assistant", "Shipped.")])
    b = episode("b", [*opening, message("user", "the blue one"), message("assistant", "Shipped.")])
    other = episode("o", [message("user", "hi, my order?"), message("assistant", "Shipped.")])
    run = make_run([a, b, other], [pairwise("a", "b", "A"), pairwise("b", "o", "A")])
    with pytest.raises(
        ConfigError,
        match=r"2 judged pairs.*part at a simulated-user turn, not at a reply: 1.*share no user turn",
    ):
        build_dataset(run, ExportConfig(format="dpo"))
    # the whole rest of each conversation, the user's turns marked as theirs
    rows = build_dataset(run, ExportConfig(format="dpo", span="rest")).rows
    (row,) = rows
    assert row["prompt"][-1] == {"role": "user", "content": "where is order 7"}
    assert [m["content"] for m in row["chosen"]] == ["Which order?", "order 7", "Shipped."]
    assert row["chosen_source"] == ["target", "simulated_user", "target"]


def test_reference_pairs_put_the_final_answer_against_the_reference(make_run: MakeRun) -> None:
    run = make_run([episode("e1", tool_turns())], [pairwise("e1", None, "B")])
    (row,) = build_dataset(run, ExportConfig(format="dpo")).rows
    assert row["chosen"] == [{"role": "assistant", "content": "It has shipped."}]
    assert row["chosen_source"] == ["reference"]
    # the episode's reply includes its tool call and result
    assert [m["role"] for m in row["rejected"]] == ["assistant", "tool", "assistant"]
    assert row["prompt"][-1]["content"] == "where is order 7"
    (pair,) = build_dataset(run, ExportConfig(format="pairs")).rows
    assert pair["verdict"] == "B" and pair["score_a"] == 0.0


def test_pairs_keep_ties(make_run: MakeRun) -> None:
    a = episode("a", talk("It shipped."), repeat=0)
    b = episode("b", talk("Shipped!"), repeat=1)
    run = make_run([a, b], [pairwise("a", "b", "tie"), pairwise("a", "b", "A", rater="r2")])
    (row,) = build_dataset(run, ExportConfig(format="pairs")).rows
    assert row["verdict"] == "A" and row["score_a"] == 0.75
    run_tie = make_run([a, b], [pairwise("a", "b", "tie")], name="tie")
    (row,) = build_dataset(run_tie, ExportConfig(format="pairs")).rows
    assert row["verdict"] == "tie" and row["winner_shown_first"] is None


def test_kto_labels_from_success_or_ratings(make_run: MakeRun) -> None:
    run = make_run(
        [
            episode("good", tool_turns()),
            episode("bad", talk("no idea"), success=False),
            episode("unchecked", talk("hm"), success=None),
        ],
        [rubric("good", 3), rubric("bad", 5)],
    )
    dataset = build_dataset(run, ExportConfig(format="kto"))
    labels = {r["episode_id"]: r["label"] for r in dataset.rows}
    assert labels == {"good": True, "bad": False}
    assert dataset.dropped == {"no label": 1}
    good = next(r for r in dataset.rows if r["episode_id"] == "good")
    assert [m["role"] for m in good["completion"]] == ["assistant", "tool", "assistant"]
    assert good["prompt"][-1] == {"role": "user", "content": "where is order 7"}
    rated = build_dataset(run, ExportConfig(format="kto", label_from="rating", rating_threshold=4))
    assert {r["episode_id"]: r["label"] for r in rated.rows} == {"good": False, "bad": True}


def test_a_format_of_ones_own_registers_like_the_built_ins(make_run: MakeRun) -> None:
    from simulacra.export import ExportFormat, export_formats

    def lengths(episode, conversation, score, config):  # type: ignore[no-untyped-def]
        said = [m["content"] for m in conversation.messages if m["role"] == "assistant"]
        return {"text": "\n".join(said), "episode_id": episode.id} if said else "silent"

    export_formats.add(
        "test-replies",
        ExportFormat(
            trainer="language modelling", columns=[("text", "the replies")], episode_row=lengths
        ),
    )
    run = make_run([episode("e1", tool_turns()), episode("e2", [message("user", "hi")])])
    dataset = build_dataset(run, ExportConfig(format="test-replies"))
    assert dataset.rows == [{"text": "\nOrder 7 has shipped.", "episode_id": "e1"}]
    assert dataset.dropped == {"silent": 1}
    from simulacra.export import dataset_card

    card = dataset_card(dataset, {"jsonl": "test-replies.jsonl"})
    assert "for language modelling" in card and "| text | the replies |" in card
    with pytest.raises(ValueError, match="of episodes or of pairs"):
        ExportFormat(trainer="x", columns=[])


def test_a_line_that_is_not_an_episode_is_skipped_and_named_in_the_card(make_run: MakeRun) -> None:
    from simulacra.export import dataset_card

    run = make_run([episode("e1", tool_turns())])
    with (run / "episodes.jsonl").open("a") as handle:
        handle.write('{"id": "bad", "status": "exploded"}\n')
    dataset = build_dataset(run, ExportConfig())
    assert [r["episode_id"] for r in dataset.rows] == ["e1"]
    card = dataset_card(dataset, {"jsonl": "sft.jsonl"})
    assert "read with a warning: episodes.jsonl: episode 2 (bad) is not an episode record" in card
