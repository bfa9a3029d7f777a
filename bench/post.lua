-- wrk script: every request is POST /jobs with one echo job on water (validation included).
-- Used by bench/echo-throughput.py: wrk -t1 -c32 -d10s -s bench/post.lua http://127.0.0.1:PORT/jobs
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"engine":"echo","task":"energy","method":"gfn2",' ..
  '"molecule":{"xyz":"3\\nwater\\nO 0 0 0.117\\nH 0 0.757 -0.467\\nH 0 -0.757 -0.467\\n"}}'
