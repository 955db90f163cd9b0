"""Run folders are unique even when started in the same second, and named after the overrides."""

from ablation_lab.utils import resolvers


def test_unique_dir_never_reuses_a_folder(tmp_path, monkeypatch):
    first = resolvers.unique_dir(str(tmp_path), "x=1")
    assert resolvers.unique_dir(str(tmp_path), "x=1") == first  # Hydra asks twice in one process
    monkeypatch.setattr(resolvers, "_claimed", {})  # as another process would
    second = resolvers.unique_dir(str(tmp_path), "x=1")
    assert second != first and second.startswith(first)


def test_short_overrides_drop_paths_and_stay_folder_safe():
    name = resolvers.short_overrides(["activation=tanh", "data.root=../shared/data", "regularization=[a,b]"])
    assert name == "activation=tanh,regularization=-a,b-"
    assert resolvers.short_overrides([]) == "defaults"
    long = resolvers.short_overrides([f"k{i}=v{i}" for i in range(40)])
    assert len(long) == 80 and "/" not in long


def test_claimed_folders_left_empty_are_released_and_used_ones_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(resolvers, "_claimed", {})
    empty = resolvers.unique_dir(str(tmp_path / "runs"), "a=1")
    used = resolvers.unique_dir(str(tmp_path / "runs"), "a=2")
    (tmp_path / "runs" / used.rsplit("/", 1)[-1] / "metrics.json").write_text("{}")
    resolvers.release_unused()
    assert not (tmp_path / "runs" / empty.rsplit("/", 1)[-1]).exists()
    assert (tmp_path / "runs" / used.rsplit("/", 1)[-1] / "metrics.json").is_file()
