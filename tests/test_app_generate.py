"""The Generate tab driven by Streamlit's AppTest: text from a tiny finished run, a checkpoint without
recurrent weights, a prime outside the vocabulary."""

from tests.app_kit import errors, labelled, mine

pytest_plugins = ("tests.app_kit",)


def test_generate_from_a_tiny_finished_run(app, runs_dir):
    at = app(tab="Generate", run=mine(runs_dir))
    at.number_input(key="length").set_value(40)
    at.button(key="generate").click().run()
    assert not at.exception and not errors(at)
    text = at.code[0].value
    assert text.startswith("The ") and len(text) == len("The ") + 40
    assert any("at step 4" in c.value for c in at.caption)


def test_a_checkpoint_without_recurrent_weights_is_named_and_never_sampled(app, runs_dir):
    hollow = labelled(runs_dir, "hollow")
    at = app(tab="Generate", run=hollow)
    assert not at.exception and not errors(at)
    offered = " ".join(at.selectbox(key="gen_run").options)
    assert hollow not in offered and mine(runs_dir) in offered
    assert any("hold no recurrent weights" in c.value and hollow in c.value for c in at.caption)
    at = app(tab="Runs")
    assert any(
        w.value.startswith(f"{hollow}: this run's checkpoint holds no recurrent weights") for w in at.warning
    )
    assert not any(mine(runs_dir) in w.value for w in at.warning)


def test_a_prime_outside_the_vocabulary_is_a_message_not_a_traceback(app, runs_dir):
    at = app(tab="Generate", run=mine(runs_dir))
    at.text_input(key="prime").set_value("€uro")
    at.button(key="generate").click().run()
    assert not at.exception
    assert any("not in the model's vocabulary" in e for e in errors(at)), errors(at)


def test_beam_width_one_on_the_page_is_the_argmax_text(app, runs_dir):
    at = app(tab="Generate", run=mine(runs_dir))
    at.number_input(key="length").set_value(60)
    at.checkbox(key="argmax").check()
    at.button(key="generate").click().run()
    greedy = at.code[0].value
    at.slider(key="beam_width").set_value(1)
    at.number_input(key="beam_length").set_value(60)
    at.button(key="beam_go").click().run()
    assert not at.exception and not errors(at), errors(at)
    assert at.code[-1].value == greedy  # the beam's likeliest text, prime included
    assert any(c.value.startswith("The likeliest of 1:") for c in at.caption)


def test_the_temperature_sweep_samples_each_temperature_from_the_same_seed(app, runs_dir):
    at = app(tab="Generate", run=mine(runs_dir))
    at.multiselect(key="sweep_temperatures").set_value([0.5, 1.0])
    at.number_input(key="sweep_length").set_value(40)
    at.button(key="sweep_go").click().run()
    assert not at.exception and not errors(at), errors(at)
    said = [c.value for c in at.caption if c.value.startswith("Temperature ")]
    assert [s.split(":")[0] for s in said] == ["Temperature 0.5", "Temperature 1.0"]
    at.number_input(key="length").set_value(40)
    at.button(key="generate").click().run()  # the plain sampler, temperature 1, seed 0
    assert at.code[0].value in [c.value for c in at.code[1:]]
