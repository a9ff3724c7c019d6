-- Shared by the benchmark scripts: argument parsing, the id list, and a machine-readable summary.
-- Scripts call `dofile(script_dir() .. "common.lua")`; run.py parses the WRK_JSON line.

local common = {}

-- "key=value" arguments given after `--` on the wrk command line.
function common.options(args)
  local out = {}
  for _, arg in ipairs(args) do
    local key, value = arg:match("^([%w_]+)=(.*)$")
    if key then out[key] = value end
  end
  return out
end

-- One id per line.
function common.read_ids(path)
  local ids = {}
  for line in io.lines(path) do
    if line ~= "" then ids[#ids + 1] = line end
  end
  assert(#ids > 0, "no ids in " .. path)
  return ids
end

function common.split(text)
  local out = {}
  for item in string.gmatch(text or "", "[^,]+") do out[#out + 1] = item end
  return out
end

function common.headers(options)
  local headers = {
    ["Authorization"] = "Bearer " .. assert(options.token, "token=... is required"),
    ["Accept"] = "application/json",
  }
  if options.version then headers["Intercom-Version"] = options.version end
  return headers
end

-- Called once at the end, in the main Lua state: one JSON line for run.py.
function common.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "rps": %.2f, ' ..
    '"p50_us": %d, "p75_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end

return common
