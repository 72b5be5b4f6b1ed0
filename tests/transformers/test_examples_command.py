"""`manage.py check_transformer_examples` re-runs saved examples and catches a changed chain."""
import pytest
from django.core.management import CommandError, call_command

from connections.models import Transformer, TransformerExample

pytestmark = pytest.mark.django_db


@pytest.fixture
def shaped():
    transformer = Transformer.objects.create(name="Order payload", identifier="order-payload", steps=[
        {"kind": "value_setter", "settings": {"key": "payload.name", "value": "&{name}"}},
        {"kind": "cast", "settings": {"key": "total", "to": "number"}},
    ])
    TransformerExample.objects.create(transformer=transformer, input={"name": "Ann", "total": "2.5"},
                                      output=[{"name": "Ann", "total": 2.5, "payload": {"name": "Ann"}}])
    TransformerExample.objects.create(transformer=transformer, input=[{"name": "Bo", "total": "1"}],
                                      output=[{"name": "Bo", "total": 1, "payload": {"name": "Bo"}}])
    return transformer


def test_all_examples_match(shaped, capsys):
    call_command("check_transformer_examples")
    assert "All 2 transformer example(s) match." in capsys.readouterr().out


def test_a_changed_chain_is_caught_and_listed(shaped, capsys):
    shaped.steps[1]["settings"]["to"] = "string"  # someone edits the chain
    shaped.save()
    with pytest.raises(CommandError, match="2 of 2 transformer example"):
        call_command("check_transformer_examples")
    err = capsys.readouterr().err
    assert 'MISMATCH transformer "Order payload" (order-payload)' in err
    assert 'expected: [{"name": "Ann", "payload": {"name": "Ann"}, "total": 2.5}]' in err
    assert '"total": "2.5"' in err


def test_a_chain_that_now_fails_is_a_mismatch_with_the_error(shaped, capsys):
    shaped.steps.append({"kind": "cast", "settings": {"key": "name", "to": "number"}})
    shaped.save()
    with pytest.raises(CommandError):
        call_command("check_transformer_examples", "order-payload")
    assert 'got:      error: Step 3 (Cast), key "name": cannot cast "Ann"' in capsys.readouterr().err


@pytest.mark.django_db(transaction=True)  # committed, so the child process sees the rows
def test_exit_status_from_the_command_line(shaped):
    import subprocess
    import sys

    from django.conf import settings
    from django.db import connection

    # The child process must open the test database this test committed to.
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    elif connection.vendor == "postgresql":
        url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        pytest.skip(f"no URL for {connection.vendor}")
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin", "ALUMIO_VAR_DIR": str(settings.VAR_DIR)}
    ok = subprocess.run([sys.executable, "manage.py", "check_transformer_examples"], env=env, capture_output=True,
                        text=True, cwd=settings.BASE_DIR)
    assert ok.returncode == 0, ok.stderr
    shaped.steps = []
    shaped.save()
    bad = subprocess.run([sys.executable, "manage.py", "check_transformer_examples"], env=env, capture_output=True,
                         text=True, cwd=settings.BASE_DIR)
    assert bad.returncode == 1 and "MISMATCH" in bad.stderr
