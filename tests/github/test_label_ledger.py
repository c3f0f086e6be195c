"""prtriage's ledger of its own labels: a hidden block that reads back as written, whatever the names."""

from __future__ import annotations

from prtriage.github.label_ledger import MARKER, Identity, Ledger, names_itself, note_body, parse, with_block


def test_the_block_reads_back_and_hides_nothing_else() -> None:
    ledger = Ledger({"a --> <b>": 5, "kind/type: fix": 7}, {"x-y": 9})
    body = with_block(MARKER + "\ntext\n", ledger)
    assert parse(body) == (ledger.on, ledger.off)
    assert body.count("-->") == 2 and "<b>" not in body  # the marker's and the block's own end
    assert with_block(body, Ledger({"z": 1})).count("prtriage:labels") == 1  # replaced, not added
    assert parse(note_body(ledger)) == (ledger.on, ledger.off)


def test_a_malformed_block_means_nothing_is_prtriages() -> None:
    for body in ("<!-- prtriage:labels {not json} -->", '<!-- prtriage:labels {"on": [1]} -->', "", "x"):
        assert parse(body) == ({}, {})
    assert parse('<!-- prtriage:labels {"on":{"a":true,"b":"1","c":3}} -->') == ({"c": 3}, {})


def test_whose_comment_it_is() -> None:
    bot, person = {"login": "github-actions[bot]", "type": "Bot"}, {"login": "octocat", "type": "User"}
    assert Identity(None).wrote(bot) and not Identity(None).wrote(person)  # an app token: a bot
    assert Identity("octocat").wrote(person) and not Identity("octocat").wrote(bot)
    assert not Identity(None).wrote(None)


def test_a_comment_is_prtriages_only_when_it_starts_with_the_marker_and_names_itself() -> None:
    ledger = Ledger({"bug": 5}, comment={"id": 42})
    own = {"id": 42, "body": note_body(ledger)}
    assert names_itself(own) and '"id":42' in own["body"]
    assert names_itself({"id": 42, "body": with_block(MARKER + "\n### prtriage\n", ledger)})
    assert not names_itself({"id": 43, "body": own["body"]})  # a copy of it in another comment
    assert not names_itself({"id": 42, "body": "Thanks! You wrote:\n" + own["body"]})  # quoted
    assert not names_itself({"id": 42, "body": own["body"] + "\n-- posted by a bot"})  # not last
    assert not names_itself({"id": 42, "body": note_body(Ledger({"bug": 5}))})  # names no comment
    assert not names_itself({"id": "42", "body": own["body"]}) and not names_itself(None)
    # Only the last line is the ledger: a block earlier in the body says nothing.
    early = f'{MARKER}\n<!-- prtriage:labels {{"id":42,"on":{{"x":1}},"off":{{}}}} -->\ntext'
    assert parse(early) == ({}, {}) and not names_itself({"id": 42, "body": early})
