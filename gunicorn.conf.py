# Read by gunicorn from the directory it starts in (the project root, /app in the image).
# Access-log lines go through alumio_lite.access_log: OAuth codes, states and credentials redacted.
logger_class = "alumio_lite.access_log.GunicornLogger"
