"""Models: the shared LightningModule base (``module``) and epoch metrics (``metrics``), and one
module per notebook model: softmax regression, MLPs, the autoencoder and the classifier on its
frozen encoder. ``presets`` names the notebook's MLPs; ``optimizers`` holds Keras 1's defaults."""
