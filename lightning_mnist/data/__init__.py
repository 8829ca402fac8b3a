"""Data: IDX files (``idx``), their download (``download``), the datasets this package knows
(``datasets``), the ``MNISTDataModule`` (``datamodule``), its exact mid-epoch resume
(``resume``) and the cell-22 DataModule of autoencoder reconstructions (``reconstructed``)."""
