"""The console's texts are French first and marked for translation: extraction runs (here, so
in CI), finds them all, and no template shows a word outside a translation call. The CSP's
promise is kept by the templates themselves: no inline script, style or event handler."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ADMIN = Path(__file__).resolve().parents[2] / "admin"
TEMPLATES = sorted((ADMIN / "templates").rglob("*.html"))
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
TAGS = re.compile(r"<[^>]*>|&[a-z]+;|&#\d+;")
HUMAN_ATTRIBUTES = re.compile(r'\b(title|placeholder|aria-label|alt)="[^"{]*[^\W\d_]', re.I)
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.I)


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("i18n") / "messages.pot"
    command = [sys.executable, "-m", "babel.messages.frontend", "extract"]
    command += ["-F", str(ADMIN / "babel.cfg"), "-k", "_l", "-o", str(out), str(ADMIN)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "text",
    [
        "Achèvement des rapports",  # a template
        "Adresse e-mail ou mot de passe incorrect.",  # a view
        "Mot de passe",  # a form label (lazy)
        "Le mot de passe doit compter au moins %(n)d caractères.",  # create-admin's checks
        "Connectez-vous pour ouvrir cette page.",  # the login manager's message
    ],
)
def test_extraction_finds_the_console_texts(catalogue, text):
    assert f'msgid "{text}"' in catalogue


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_no_template_text_is_left_unmarked(template):
    """Jinja's code set aside, what remains between tags is punctuation, never a word."""
    markup = JINJA.sub("§", template.read_text(encoding="utf-8"))
    unmarked = [m.group(0) for m in HUMAN_ATTRIBUTES.finditer(markup)]
    unmarked += [text.strip() for text in TAGS.split(markup) if re.search(r"[^\W\d_]", text)]
    assert unmarked == []


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_templates_hold_no_inline_script_or_style(template):
    assert INLINE.findall(template.read_text(encoding="utf-8")) == []
