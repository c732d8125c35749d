"""The layer lab's network half (notebook 06): one control per :class:`LeNetConfig` setting, the
config the controls describe, and what it costs, or why it cannot be built."""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import ipywidgets as widgets

from .. import palette
from ..config import ACTIVATIONS, POOLS, ConfigError, LeNetConfig
from ..lessons.experiments import VariantTable
from ..summary import LayerSummary, layer_summary

REFERENCE = LeNetConfig()
PADDINGS = [("same", "same"), ("0 (valid)", 0), ("1", 1), ("2", 2), ("3", 3), ("4", 4)]
LABELS = {  # control descriptions, also used to name the setting in messages
    "conv1_channels": "conv1 channels", "conv1_kernel": "conv1 kernel", "conv1_padding": "conv1 padding",
    "conv2_channels": "conv2 channels", "conv2_kernel": "conv2 kernel", "conv2_padding": "conv2 padding",
    "pool": "pooling", "activation": "activation", "fc_widths": "Linear widths",
    "fc_activation": "between Linears", "dropout": "dropout", "batchnorm": "BatchNorm",
}
ERROR_BORDER = f"2px solid {palette.ERROR}"
STYLE = {"description_width": "110px"}


def network_controls() -> dict[str, widgets.ValueWidget]:
    """A control per setting, named as in :class:`LeNetConfig`, set to the reference network."""
    r = REFERENCE
    controls = {
        "conv1_channels": widgets.IntSlider(r.conv1_channels, min=1, max=64),
        "conv1_kernel": widgets.IntSlider(r.conv1_kernel, min=1, max=15),
        "conv1_padding": widgets.Dropdown(options=PADDINGS, value=r.conv1_padding),
        "conv2_channels": widgets.IntSlider(r.conv2_channels, min=1, max=64),
        "conv2_kernel": widgets.IntSlider(r.conv2_kernel, min=1, max=15),
        "conv2_padding": widgets.Dropdown(options=PADDINGS, value=r.conv2_padding),
        "pool": widgets.Dropdown(options=list(POOLS), value=r.pool),
        "activation": widgets.Dropdown(options=list(ACTIVATIONS), value=r.activation),
        "fc_widths": widgets.Text(widths_text(r.fc_widths), placeholder="e.g. 120, 84 (empty: none)"),
        "fc_activation": widgets.Dropdown(options=list(ACTIVATIONS), value=r.fc_activation),
        "dropout": widgets.FloatSlider(r.dropout, min=0.0, max=0.8, step=0.05),
        "batchnorm": widgets.Checkbox(r.batchnorm, indent=True),
    }
    for name, control in controls.items():
        control.description = LABELS[name]
        control.style = STYLE
    return controls


def network_column(c: dict[str, widgets.ValueWidget], reset_button: widgets.Button) -> widgets.VBox:
    return widgets.VBox([
        widgets.HTML("<b>Convolutions</b>"), c["conv1_channels"], c["conv1_kernel"], c["conv1_padding"],
        c["conv2_channels"], c["conv2_kernel"], c["conv2_padding"], c["pool"], c["activation"],
        c["batchnorm"],
        widgets.HTML("<b>Classifier</b>"), c["fc_widths"], c["fc_activation"], c["dropout"], reset_button,
    ], layout=widgets.Layout(flex="0 0 330px"))  # fixed width: the controls never squeeze


def describe(values: dict[str, Any], variants: VariantTable | None) -> tuple[LeNetConfig | None,
                                                                             ConfigError | None, str]:
    """The config the controls' ``values`` describe and its summary as HTML; or, when it cannot be
    built, ``None``, the error naming the setting, and that error as HTML."""
    try:
        config = config_from(values)
        table = layer_summary(config)
    except ConfigError as err:
        return None, err, error_html(err)
    except Exception as err:  # never a traceback in the lab: say what happened
        error = ConfigError("network", f"{type(err).__name__}: {err}")
        return None, error, error_html(error)
    return config, None, summary_html(config, table, variants)


def config_from(values: dict[str, Any]) -> LeNetConfig:
    """The controls' values (``fc_widths`` as typed) as a checked config; raises :class:`ConfigError`."""
    return dataclasses.replace(REFERENCE, **{**values, "fc_widths": parse_widths(values["fc_widths"])})


def widths_text(widths: tuple[int, ...] | str) -> str:
    if isinstance(widths, str):
        return widths
    return ", ".join(str(w) for w in widths)


def parse_widths(text: str) -> tuple[int, ...]:
    """``"120, 84"`` -> ``(120, 84)``; commas or semicolons, empty for no hidden Linear layer."""
    widths = []
    for p in (p.strip() for p in text.replace(";", ",").split(",")):
        if not p:
            continue
        try:
            widths.append(int(p))
        except ValueError:
            raise ConfigError("fc_widths", f"{p!r} is not a whole number; write widths separated by commas, "
                                           "e.g. 120, 84 (leave it empty for no hidden Linear layer)") from None
    return tuple(widths)


def summary_html(config: LeNetConfig, table: LayerSummary, variants: VariantTable | None) -> str:
    """Parameters and MACs against the reference, the row of the variants table if it has one, the layer table."""
    ref_params = layer_summary(REFERENCE).total_params if config != REFERENCE else table.total_params
    ratio = table.total_params / ref_params
    delta = table.total_params - ref_params
    vs = "the reference" if delta == 0 else f"{delta:+,} vs the reference ({ratio:.2f}x)"
    row = variants.find(config) if variants is not None else None
    known = (f"<br>In the variants table as <b>{html.escape(row.name)}</b>: {row.mean_acc:.2%} mean test "
             f"accuracy after {variants.steps} batches.") if row is not None else ""
    return (f"<div class='lenet-lab-summary'>"
            f"<div class='lenet-lab-headline'><b class='lenet-lab-params'>{table.total_params:,}</b> parameters "
            f"({vs}), <b class='lenet-lab-macs'>{table.total_macs:,}</b> MACs per image.<br>"
            f"Changes: <span class='lenet-lab-changes'>{html.escape(config.describe_changes())}</span>{known}</div>"
            f"{table._repr_html_()}</div>")


def error_html(err: ConfigError) -> str:
    """The setting that breaks the network, by its control's name, and why."""
    label = LABELS.get(err.field, err.field)
    return (f"<div class='lenet-lab-error' style='color:{palette.ERROR};border-left:4px solid {palette.ERROR};"
            "padding:6px 10px'>"
            f"<b>This network cannot be built.</b><br>"
            f"<b class='lenet-lab-error-field'>{html.escape(label)}</b> ({html.escape(err.field)}): "
            f"{html.escape(err.reason)}</div>")
