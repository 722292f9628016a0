# The WSGI app gunicorn serves in the comparison: the same minimal 200 as corral-bench-worker.
def app(environ, start_response):
    start_response("200 OK", [("Content-Length", "3")])
    return [b"ok\n"]
