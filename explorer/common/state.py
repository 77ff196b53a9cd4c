"""Every setting the sidebar controls, keyed by its URL query parameter, and the RunConfig it makes.

The sidebar widgets are bound to the query string (bind="query-params"), so a URL restores the view:
the settings, the selected run and the tab. Only values that differ from the defaults appear in it.
"""

import hashlib
import re
import secrets
from dataclasses import fields
from urllib.parse import urlencode, urlsplit

import streamlit as st

from core.config import Control, ModelConfig, RunConfig, TrainConfig, control_of, help_of

SECTIONS = {"model": ModelConfig, "train": TrainConfig}
# query-parameter key -> (section of RunConfig, field name), from each field's Control
SETTINGS = {
    f.metadata["control"].url: (section, f.name)
    for section, cls in SECTIONS.items()
    for f in fields(cls)
    if f.metadata.get("control")
}
URL = "query-params"  # what widgets' bind= takes: their values are mirrored in the page's URL
OWNER, RUN = "owner", "run"  # query parameters: this browser session's secret, and the run it shows


def defaults() -> dict:
    """Each setting's default: the config dataclasses' own defaults."""
    values = {section: {f.name: f.default for f in fields(cls)} for section, cls in SECTIONS.items()}
    return {key: values[section][name] for key, (section, name) in SETTINGS.items()}


def control_for(key: str) -> Control:
    """The setting's Control: its label, bounds and widget (core.config declares them)."""
    section, name = SETTINGS[key]
    return control_of(SECTIONS[section], name)


def help_for(key: str) -> str:
    """The setting's help text, as the config field itself documents it (the CLI shows the same)."""
    section, name = SETTINGS[key]
    return sentence(help_of(SECTIONS[section], name))


def sentence(text: str) -> str:
    """A config field's help text as a tooltip: capitalised, with a full stop."""
    return text[:1].upper() + text[1:] + "."


def settings_of(config: RunConfig) -> dict:
    """A RunConfig (a preset, a past run) as widget values."""
    return {key: getattr(getattr(config, section), name) for key, (section, name) in SETTINGS.items()}


def config_of(settings: dict, corpus: str) -> RunConfig:
    """Widget values -> RunConfig; ConfigError with a readable message if any value cannot work."""
    parts = {section: {} for section in SECTIONS}
    for key, (section, name) in SETTINGS.items():
        parts[section][name] = settings[key]
    return RunConfig(model=ModelConfig(**parts["model"]), train=TrainConfig(**parts["train"]), corpus=corpus)


def current_settings() -> dict:
    """The widget values as the session holds them now (what a Start callback should use)."""
    base = defaults()
    return {key: st.session_state.get(key, base[key]) for key in SETTINGS}


def apply_settings(values: dict) -> None:
    """Set the widgets (a callback, before they render); their bound URL parameters follow."""
    for key, value in values.items():
        st.session_state[key] = value


def show(run_id: str | None = None, tab: str | None = None) -> None:
    """Select a run and/or open a tab, from a callback (their widgets, bound to the URL, follow)."""
    if tab is not None:
        st.session_state["tab"] = tab
    if run_id is not None:
        st.session_state[RUN] = run_id


def selected_run() -> str | None:
    """The run the page shows: the Train tab's picker, else the URL's `run` (that picker is only drawn
    while its tab is open)."""
    return st.session_state.get(RUN) or st.query_params.get(RUN)


def owner_id() -> str:
    """This browser session's owner id, as its runs record it: derived from the session's secret, which
    is kept in the URL (a reload keeps it) and never in a shared link (the Share button leaves it out),
    nor in any file a run writes. Whoever holds the secret acts as the owner."""
    if OWNER not in st.session_state:
        st.session_state[OWNER] = st.query_params.get(OWNER) or secrets.token_hex(8)
    if st.query_params.get(OWNER) != st.session_state[OWNER]:
        st.query_params[OWNER] = st.session_state[OWNER]
    return owner_of(st.session_state[OWNER])


def owner_of(secret: str) -> str:
    """The public owner id of a session secret (one-way: a run's files never reveal the secret)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]


def share_link(run_id: str, tab: str = "Train") -> str:
    """A link that shows this run on `tab`, read-only, to whoever opens it: the address this browser
    reached the app by, no secret."""
    return f"{page_address()}?{urlencode({'tab': tab, RUN: run_id})}"


HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")  # a Host header's shape


def page_address() -> str:
    """The page's address as the browser asked for it: the Host header it sent (a class reaches a
    served app by the server's name or address, while the server itself may see 127.0.0.1), else the
    URL Streamlit reports."""
    url = urlsplit(st.context.url or "")
    host = st.context.headers.get("Host") or ""
    if not HOST.fullmatch(host):
        host = url.netloc
    scheme = "https" if st.context.headers.get("X-Forwarded-Proto") == "https" else url.scheme or "http"
    return f"{scheme}://{host}{url.path}"
