"""The state's retirement process for a dataset whose spec has a `retire:` block (`process`),
and the retired-assets register it keeps on the portal (`register`)."""
