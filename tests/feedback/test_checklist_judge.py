"""The judge of judged tasks: parsing, verdicts, abstentions, order control, diagnostics."""

from __future__ import annotations

import pytest

from judges_for_tests import checklist, fair_judge, first_yes_judge, yes_judge
from simulacra.errors import ModelError
from simulacra.feedback import ChecklistJudge, check_result, checklist_report, parse_checklist
from simulacra.llm import Message, ScriptedModel
from simulacra.tasks import JudgedCheck, Task

TASK = Task(
    id="w.email",
    goal="Write an email reminding a client of an overdue invoice.",
    facts=["It's invoice 2291 for $1,840.", "Keep it under 120 words."],
    reference="Dear client, invoice 2291 ...",
    check=JudgedCheck(
        criteria=[
            "It mentions invoice 2291",
            "It mentions the amount $1,840",
            "It is polite",
            "It is under 120 words",
        ],
        guidance="Count the words.",
    ),
)
ANSWER = "Dear client, invoice 2291 for $1,840 is overdue. Kind regards."
TRANSCRIPT = [
    Message(role="user", content="Write an email about an overdue invoice."),
    Message(role="assistant", content=ANSWER),
]


def test_parse_checklist_reads_the_usual_forms_and_ignores_the_rest() -> None:
    text = (
        "Here is my check.\n1: yes - it names the invoice\n**2.** No — the amount is missing\n"
        "- 3) met: polite\nItem 4: not met, too long\n5: yes - no such item\n1: no - again"
    )
    assert parse_checklist(text, 4) == {
        1: (True, "it names the invoice"),
        2: (False, "the amount is missing"),
        3: (True, "polite"),
        4: (False, "too long"),
    }
    assert parse_checklist("Overall it is fine, 2 of them hold.", 4) == {}


async def test_every_must_have_met_passes_with_reasons_and_the_hidden_facts_shown() -> None:
    model = ScriptedModel(yes_judge)
    judged = await ChecklistJudge(model=model, identity="m").judge(
        TASK, TRANSCRIPT, answer=ANSWER, seed=3
    )
    record = judged.record
    assert record.verdict == "pass" and record.met == 4 and record.needed == 4
    assert [c.reason for c in record.criteria] == ["looks right"] * 4
    assert record.answer_chars == len(ANSWER) and record.model == "m"
    assert judged.usage.calls == 1
    prompt = model.calls[0][0][-1].content
    assert "invoice 2291 for $1,840" in prompt  # the facts the user had in mind
    assert "Dear client, invoice 2291 ..." in prompt and "Count the words." in prompt
    assert ANSWER in prompt
    result = check_result(record)
    assert result["passed"] is True and result["extracted"] == "4/4"
    assert result["judgement"]["criteria"][0]["criterion"] == "It mentions invoice 2291"


async def test_one_must_have_missed_fails_and_names_it() -> None:
    judged = await ChecklistJudge(model=ScriptedModel(fair_judge)).judge(
        TASK, TRANSCRIPT, answer="Dear client, please pay invoice 2291.", seed=0
    )
    record = judged.record
    assert record.verdict == "fail"
    missed = {c.criterion for c in record.criteria if c.met is False}
    assert "It mentions the amount $1,840" in missed
    assert "not met: " in check_result(record)["detail"]
    assert check_result(record)["passed"] is False


async def test_a_reply_it_cannot_parse_is_asked_again_then_an_abstention() -> None:
    model = ScriptedModel(["It seems fine.", "Overall good."])
    judged = await ChecklistJudge(model=model, max_retries=1).judge(TASK, TRANSCRIPT, answer=ANSWER)
    record = judged.record
    assert record.verdict == "abstain" and record.attempts == 2
    assert all(c.met is None for c in record.criteria)
    assert record.error == "no answer for some items in the reply"
    assert check_result(record)["passed"] is None
    follow_up = model.calls[1][0][-1].content
    assert follow_up.startswith("Answer these items too: 1, 2, 3, 4")


async def test_items_missing_from_the_first_reply_are_asked_for_and_completed() -> None:
    model = ScriptedModel(["1: yes - a\n2: yes - b", "3: yes - c\n4: yes - d"])
    record = (await ChecklistJudge(model=model).judge(TASK, TRANSCRIPT, answer=ANSWER)).record
    assert record.verdict == "pass" and record.attempts == 2 and record.error is None
    assert "Answer these items too: 3, 4." in model.calls[1][0][-1].content


async def test_a_known_failure_is_a_failure_even_when_other_items_are_unanswered() -> None:
    model = ScriptedModel(["1: no - missing", "nothing"])
    record = (await ChecklistJudge(model=model).judge(TASK, TRANSCRIPT, answer=ANSWER)).record
    assert record.verdict == "fail"  # 4 of 4 needed, one is already not met


async def test_pass_share_lets_some_must_haves_be_missed() -> None:
    lenient = TASK.model_copy(
        update={"check": TASK.check.model_copy(update={"pass_share": 0.75})}  # type: ignore[union-attr]
    )
    model = ScriptedModel(["1: yes - a\n2: yes - b\n3: no - c\n4: yes - d"])
    record = (await ChecklistJudge(model=model).judge(lenient, TRANSCRIPT, answer=ANSWER)).record
    assert record.needed == 3 and record.verdict == "pass"


async def test_a_model_error_is_an_abstention_with_the_error_and_refusal_stops() -> None:
    failing = ScriptedModel([ModelError("HTTP 503", retryable=True, status=503)])
    record = (await ChecklistJudge(model=failing).judge(TASK, TRANSCRIPT, answer=ANSWER)).record
    assert record.verdict == "abstain" and record.error == "model error: HTTP 503"
    refused = ScriptedModel([ModelError("HTTP 401", status=401)])
    with pytest.raises(ModelError):
        await ChecklistJudge(model=refused).judge(TASK, TRANSCRIPT, answer=ANSWER)


async def test_the_conversation_scope_shows_every_turn() -> None:
    tutoring = TASK.model_copy(
        update={"check": JudgedCheck(criteria=["finds it"], scope="conversation")}
    )
    model = ScriptedModel(yes_judge)
    await ChecklistJudge(model=model).judge(tutoring, TRANSCRIPT, answer=ANSWER)
    prompt = model.calls[0][0][-1].content
    assert "User: Write an email about an overdue invoice." in prompt
    assert "[The conversation to check]" in prompt


async def test_the_order_is_random_per_episode_and_both_orders_catch_position_bias() -> None:
    firsts = set()
    for seed in range(30):
        model = ScriptedModel(yes_judge)
        await ChecklistJudge(model=model).judge(TASK, TRANSCRIPT, answer=ANSWER, seed=seed)
        firsts.add(checklist(model.calls[0][0])[0][1])
    assert firsts == set(TASK.check.criteria)  # type: ignore[union-attr]
    model = ScriptedModel(first_yes_judge)
    judged = await ChecklistJudge(model=model, orders=2).judge(
        TASK, TRANSCRIPT, answer=ANSWER, seed=1
    )
    record = judged.record
    assert judged.usage.calls == 2 and record.orders == 2
    shown_first = [checklist(call[0])[0][1] for call in model.calls]
    assert shown_first[0] != shown_first[1]  # the second order is the first reversed
    assert record.consistent is False  # the item shown first in one order is last in the other
    assert record.met == 0 and record.verdict == "fail"
    for criterion in record.criteria:
        assert sorted(criterion.shown_at) in ([1, 4], [2, 3])


async def test_diagnostics_find_a_position_biased_judge_and_not_a_fair_one() -> None:
    biased, fair = [], []
    for seed in range(40):
        for model, into in ((first_yes_judge, biased), (yes_judge, fair)):
            judge = ChecklistJudge(model=ScriptedModel(model), orders=2)
            judged = await judge.judge(TASK, TRANSCRIPT, answer=ANSWER, seed=seed)
            into.append(judged.record.model_dump())
    report = checklist_report(biased)
    assert report["position"]["first_shown_met"] == 1.0
    assert report["position"]["last_shown_met"] == 0.0
    assert report["position"]["order_agreement"] == pytest.approx(0.5)
    fair_report = checklist_report(fair, second=biased)
    assert fair_report["position"]["first_shown_met"] == fair_report["position"]["last_shown_met"]
    assert fair_report["position"]["order_agreement"] == 1.0
    agreement = fair_report["agreement"]
    assert agreement["verdicts"]["agreement"] == 0.0  # every fair pass is a biased fail
    assert agreement["must_haves"]["n"] == 160
    assert checklist_report(fair, second=fair)["agreement"]["verdicts"]["agreement"] == 1.0


def test_diagnostics_see_a_judge_that_passes_long_answers() -> None:
    def record(chars: int, passed: bool) -> dict[str, object]:
        criteria = [{"criterion": "x", "met": passed, "shown_at": [1], "verdicts": [passed]}]
        return {
            "verdict": "pass" if passed else "fail",
            "answer_chars": chars,
            "met": int(passed),
            "criteria": criteria,
        }

    by_length = [record(100 * (i + 1), i >= 5) for i in range(10)]
    length = checklist_report(by_length)["length"]
    assert length["longer_half_pass_rate"] == 1.0 and length["shorter_half_pass_rate"] == 0.0
    assert length["length_met_correlation"] > 0.7
    blind = [record(100 * (i + 1), i % 2 == 0) for i in range(10)]
    assert abs(checklist_report(blind)["length"]["difference"]) <= 0.2


def test_a_judged_check_is_not_scored_by_code_and_answers_need_substance() -> None:
    check = JudgedCheck(criteria=["a", "b"])
    assert check.evaluate("anything").passed is False
    said = "write an email to my landlord about the tap"
    assert not check.gives_answer("Sure! Which tap is it?", said=said)
    assert check.gives_answer(
        "Dear Mr Hill, the kitchen tap has leaked for ten days; please arrange a plumber "
        "this week and reply in writing.",
        said=said,
    )
    with pytest.raises(ValueError, match="criteria repeat"):
        JudgedCheck(criteria=["same", "same "])


async def test_the_brief_template_is_a_second_judge_of_its_own() -> None:
    model = ScriptedModel(yes_judge)
    judge = ChecklistJudge(model=model, template="checklist-brief", temperature=0.7)
    record = (await judge.judge(TASK, TRANSCRIPT, answer=ANSWER, seed=5)).record
    assert record.verdict == "pass" and record.template == "checklist-brief"
    messages, params = model.calls[0]
    assert [m.role for m in messages] == ["user"] and params.temperature == 0.7
    assert "Checklist:\n1. " in messages[0].content and ANSWER in messages[0].content


async def test_assertions_are_judged_on_the_whole_conversation_each_with_its_reply() -> None:
    from simulacra.feedback import abstention, assertion_verdicts

    conversation = [
        Message(role="user", content="My phone shows No Service."),
        Message(role="assistant", content="Please turn airplane mode off."),
        Message(role="user", content="Done, still nothing."),
        Message(role="assistant", content="Now reseat your SIM card."),
    ]
    statements = ["The agent asks to turn airplane mode off.", "The agent asks to reseat the SIM."]
    model = ScriptedModel(["1: yes - it asked first", "2: no - <i>never</i>"])
    judged = await ChecklistJudge(model=model, orders=1).judge_assertions(
        TASK, statements, conversation, seed=0
    )
    prompt = model.calls[0][0][-1].content
    assert "Assistant: Please turn airplane mode off." in prompt
    assert "Assistant: Now reseat your SIM card." in prompt
    assert "what it told the user" in prompt  # the guidance for assertions
    record = judged.record
    assert record.scope == "conversation" and record.needed == 2 and record.verdict in ("fail",)
    verdicts = {v.assertion: v for v in assertion_verdicts(record).verdicts}
    shown_first = checklist(model.calls[0][0])[0][1]
    first, second = verdicts[shown_first], verdicts[next(s for s in statements if s != shown_first)]
    assert (first.outcome, first.reason, first.reply) == (
        "met",
        "it asked first",
        "1: yes - it asked first",
    )
    assert (second.outcome, second.reply) == ("not met", "2: no - <i>never</i>")
    assert assertion_verdicts(record).passed is False
    # a judgement that could not be made: every assertion abstains with the error
    failed = assertion_verdicts(abstention(statements, "judge failed: boom"))
    assert failed.passed is None and failed.error == "judge failed: boom"
    assert [(v.outcome, v.reason) for v in failed.verdicts] == [
        ("abstained", "judge failed: boom")
    ] * 2
