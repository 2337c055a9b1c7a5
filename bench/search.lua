-- bench/search.lua: authenticated transaction search for wrk (make bench).
--
--   wrk -t N -c N -s bench/search.lua URL -- TOKENS-FILE [PATH]
--
-- Run with as many threads as connections: each thread has one
-- connection and its own session (line N of TOKENS-FILE, one session
-- cookie value per line), like N operators each in their own browser.
-- PC_BENCH_DELAY_MS in the environment: pause between requests (a light
-- load for latency figures) instead of back-to-back requests.

local threads = {}
local count = 0

function setup(thread)
	thread:set("tid", count)
	count = count + 1
	table.insert(threads, thread)
end

function init(args)
	local tokens = {}
	for line in io.lines(args[1]) do
		if line ~= "" then tokens[#tokens + 1] = line end
	end
	local tok = tokens[(tid % #tokens) + 1]
	req = wrk.format("GET", args[2] or "/api/transactions?limit=50", {
		["Cookie"] = "__Host-pc_session=" .. tok,
		["Accept"] = "application/json",
	})
end

function request()
	return req
end

local pause = tonumber(os.getenv("PC_BENCH_DELAY_MS") or "0")
if pause > 0 then
	function delay()
		return pause
	end
end

-- Machine-readable summary for bench/run (latencies in microseconds).
function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("BENCH requests %d duration_us %d " ..
	    "p50 %d p90 %d p99 %d max %d mean %.1f " ..
	    "connect %d read %d write %d non2xx %d timeout %d\n",
	    summary.requests, summary.duration,
	    latency:percentile(50), latency:percentile(90),
	    latency:percentile(99), latency.max, latency.mean,
	    e.connect, e.read, e.write, e.status, e.timeout))
end
