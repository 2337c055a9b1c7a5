-- bench/brute.lua: a password-guessing client for wrk (make bench).
--
--   wrk -t T -c 64 -s bench/brute.lua URL
--
-- Every request is a login with a wrong password and a wrong code for a
-- username nobody has (a fresh one each time), so no account lockout
-- ever stops it and every attempt that gets past the in-flight bound
-- costs the server one argon2id hash (the dummy hash). It ignores
-- Retry-After and sends the next guess as soon as an answer arrives.

local threads = {}
local count = 0

function setup(thread)
	thread:set("tid", count)
	count = count + 1
	table.insert(threads, thread)
end

function init(args)
	math.randomseed(os.time() * 1000 + tid)
	n = 0
	statuses = {}
end

function request()
	n = n + 1
	local body = string.format('{"username":"bf%d_%08x_%d",' ..
	    '"password":"Wrong-Guess-%d-x","otp":"000000"}',
	    tid, math.random(0, 0x7fffffff), n, n)
	return wrk.format("POST", "/api/login",
	    { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
	statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
	local agg = {}
	for _, t in ipairs(threads) do
		for k, v in pairs(t:get("statuses")) do
			agg[k] = (agg[k] or 0) + v
		end
	end
	for k, v in pairs(agg) do
		io.write(string.format("BENCH status %d %d\n", k, v))
	end
	local e = summary.errors
	io.write(string.format("BENCH requests %d duration_us %d " ..
	    "p50 %d p99 %d connect %d read %d timeout %d\n",
	    summary.requests, summary.duration, latency:percentile(50),
	    latency:percentile(99), e.connect, e.read, e.timeout))
end
