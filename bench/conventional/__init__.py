"""The CONVENTIONAL way, kept only as the benchmark's baseline: Lambda handlers written as SAM's
`hello-pt` template and most Powertools tutorials write them — every utility and boto3 client built
at module level — doing the same work as the relay's handlers."""
