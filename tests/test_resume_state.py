"""What a resumed run must remember from before the kill: the best validation accuracy so far (its
curve may have peaked before), even when nothing is left to train (killed in the test phase)."""

import lightning as L
import torch

from ablation_lab.build import build_datamodule, build_module


def _module(make_cfg):
    cfg = make_cfg("model.width=16")
    return build_module(cfg, build_datamodule(cfg)), cfg


def test_the_best_validation_accuracy_travels_in_the_checkpoint(make_cfg, tmp_path):
    killed, cfg = _module(make_cfg)
    dm = build_datamodule(cfg)
    trainer = L.Trainer(
        max_epochs=1,
        limit_train_batches=2,
        limit_val_batches=1,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(killed, datamodule=dm)
    killed.val_acc_best.update(torch.tensor(0.9))  # the peak, before the kill
    trainer.save_checkpoint(tmp_path / "last.ckpt")
    checkpoint = torch.load(tmp_path / "last.ckpt", weights_only=True)
    assert checkpoint["val_acc_best"] == torch.tensor(0.9).item()

    resumed, _ = _module(make_cfg)
    resumed.on_load_checkpoint(checkpoint)
    assert resumed.best_val_acc() == checkpoint["val_acc_best"]  # nothing left to train: still known
    resumed.on_train_start()  # forgets the sanity check, not the epochs before the kill
    resumed.val_acc_best.update(torch.tensor(0.5))  # a worse epoch after the resume
    assert resumed.best_val_acc() == checkpoint["val_acc_best"]
    resumed.val_acc_best.update(torch.tensor(0.95))
    assert resumed.best_val_acc() == torch.tensor(0.95).item()


def test_a_fresh_run_has_no_best_before_its_first_epoch(make_cfg):
    assert _module(make_cfg)[0].best_val_acc() is None
