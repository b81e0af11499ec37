"""The group worker: claims arq jobs from several queues under one concurrency limit."""
