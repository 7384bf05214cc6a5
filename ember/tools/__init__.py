"""Tools that read models and runs: summaries (parameters, MACs, connections, receptive fields, memory),
the output-size formula, and plots of training curves. Models never import tools.

    ember.summary(model, (3, 224, 224))          # the table; .rows / .totals / .to_dict() for numbers
    ember.receptive_field(model, (3, 224, 224))  # rf, jump, start after every layer
    ember.tools.conv_output_size(7, 3, stride=3) # (N - F + 2P)/S + 1, and why it does not fit
"""

from .receptive_field import Field, Fields, OutputSize, conv_output_size, receptive_field
from .summary import LayerRow, Summary, summarize, summary
