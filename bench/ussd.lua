-- wrk driver for bench/ussd.py: whole USSD sessions, steps strictly in order.
--
-- Run it with ONE connection per wrk thread (`wrk -t N -c N`): wrk's Lua API does not say
-- which connection a response belongs to, so per-thread state is per-connection state only
-- when each thread owns one connection. Each thread walks sessions one after another: a fresh
-- sessionId and a fresh worker phone per session, the cumulative `text` as the gateway sends
-- it, and the next step only once the previous answer arrived and matched the expected screen.
--
-- Configuration comes from the Lua file named by $USSD_BENCH_CONFIG (written by ussd.py):
--   path, threads, offset, limit, phone_base, prefix, texts (url-encoded `text` per step),
--   screens (expected body per step).
--
-- Only for maximum-throughput runs (no pauses). The open-loop runs use ussd.py's own client: wrk has
-- no hook between closing a connection and opening the next, so a pause always holds a socket
-- open, and gunicorn's sync workers block on such a socket (reading the next request, or up to
-- 2 s in their graceful close waiting for the client's FIN).
-- Note: wrk calls request() once more for thread 0 before the run (to count pipelining), so
-- request() must not change the state; only response() does.

local cfg = dofile(assert(os.getenv("USSD_BENCH_CONFIG"), "USSD_BENCH_CONFIG is not set"))

local NSTEPS = #cfg.texts
local HEADERS = { ["Content-Type"] = "application/x-www-form-urlencoded" }

-- main state: the threads, for done()
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

-- thread state (globals, so that done() can read them with thread:get)
ok_steps, errors, completed, finals_sent, started, exhausted, max_index = 0, 0, 0, 0, 0, 0, -1
samples = {}
local session, step, base = -1, 1, ""

local function new_session()
  session = session + 1
  local index = cfg.offset + tid + cfg.threads * session
  if index >= cfg.limit then
    exhausted = 1
    wrk.thread:stop()
    index = cfg.limit - 1 -- keep sending something valid until the thread stops
  end
  if index > max_index then max_index = index end
  started = started + 1
  step = 1
  base = "sessionId=" .. cfg.prefix .. tid .. "-" .. session
    .. "&serviceCode=%2A384%2A12%23&phoneNumber=%2B223" .. string.format("%d", cfg.phone_base + index)
    .. "&networkCode=99999&text="
end

function init(args)
  new_session()
end

function request()
  if step == NSTEPS then finals_sent = finals_sent + 1 end
  return wrk.format("POST", cfg.path, HEADERS, base .. cfg.texts[step])
end

function response(status, headers, body)
  if status == 200 and body == cfg.screens[step] then
    ok_steps = ok_steps + 1
    if step == NSTEPS then
      completed = completed + 1
      new_session()
    else
      step = step + 1
    end
  else
    errors = errors + 1
    if #samples < 5 then
      samples[#samples + 1] = "step " .. step .. ": HTTP " .. status .. ": " .. string.sub(body or "", 1, 120)
    end
    new_session() -- give up on this session; the next one uses a fresh worker
  end
end

-- done(): aggregate the threads and print one JSON line for ussd.py -------------------------

local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    local named = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
    return named[c] or string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local total = { ok_steps = 0, errors = 0, completed = 0, finals_sent = 0, started = 0,
                  exhausted = 0, max_index = -1 }
  local all_samples = {}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(total) do
      local value = thread:get(key) or 0
      if key == "max_index" then
        if value > total.max_index then total.max_index = value end
      else
        total[key] = total[key] + value
      end
    end
    for _, s in ipairs(thread:get("samples") or {}) do
      if #all_samples < 10 then all_samples[#all_samples + 1] = s end
    end
  end
  local e = summary.errors
  local fields = {
    string.format('"requests": %d', summary.requests),
    string.format('"duration_us": %d', summary.duration),
    string.format('"bytes": %d', summary.bytes),
    string.format('"socket_errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}',
      e.connect, e.read, e.write, e.status, e.timeout),
    string.format('"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}',
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean),
  }
  for key, value in pairs(total) do
    fields[#fields + 1] = string.format('"%s": %d', key, value)
  end
  local quoted = {}
  for _, s in ipairs(all_samples) do quoted[#quoted + 1] = json_string(s) end
  fields[#fields + 1] = '"samples": [' .. table.concat(quoted, ", ") .. "]"
  io.write("BENCH_JSON {" .. table.concat(fields, ", ") .. "}\n")
end
