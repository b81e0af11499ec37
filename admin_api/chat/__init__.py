"""Chat: questions about the monitoring data, answered by ``process_chat_task`` on the ``ai`` queue."""
