-- wrk driver for bench/ussd.py: whole USSD sessions, steps strictly in order.
--
-- Run it with ONE connection per wrk thread (`wrk -t N -c N`): wrk's Lua API does not say
-- which connection a response belongs to, so per-thread state is per-connection state only
-- when each thread owns one connection. Each thread walks sessions one after another: a fresh
-- sessionId and a fresh worker phone per session, the cumulative `text` as the gateway sends
-- it, and the next step only once the previous answer arrived and matched the expected screen.
--
-- Configuration comes from the Lua file named by $USSD_BENCH_CONFIG (written by ussd.py):
--   path, threads, offset, limit, phone_base, prefix, rate (total steps/s, 0 = as fast as
--   possible), texts (url-encoded `text` per step), screens (expected body per step).
-- Note: wrk calls request() once more for thread 0 before the run (to count pipelining), so
-- request() must not change the state; only response() and delay() do.

local cfg = dofile(assert(os.getenv("USSD_BENCH_CONFIG"), "USSD_BENCH_CONFIG is not set"))

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } ussd_bench_timespec;
int clock_gettime(int clk_id, ussd_bench_timespec *tp);
]]
local ts = ffi.new("ussd_bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

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
lats = {}
local session, step, base = -1, 1, ""
local interval, sched, sent_sched = 0, 0, 0

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
  if cfg.rate > 0 then
    interval = 1000 * cfg.threads / cfg.rate
    math.randomseed(tid * 7919 + 17)
    sched = now_ms() + math.random() * interval -- spread the threads' phases
  end
end

if cfg.rate > 0 then
  -- Paced run: each connection sends on its own schedule (rate / threads per second). A late
  -- answer delays the next send of that connection only; the schedule catches up (bounded to
  -- one second of backlog), and the latency is also measured from the scheduled send time.
  function delay()
    sched = sched + interval
    local now = now_ms()
    if now - sched > 1000 then sched = now end
    local wait = sched - now
    if wait <= 0 then return 0 end
    return math.ceil(wait)
  end
end

function request()
  if step == NSTEPS then finals_sent = finals_sent + 1 end
  sent_sched = sched
  return wrk.format("POST", cfg.path, HEADERS, base .. cfg.texts[step])
end

function response(status, headers, body)
  if cfg.rate > 0 then lats[#lats + 1] = now_ms() - sent_sched end
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

local function percentile(sorted, p)
  if #sorted == 0 then return -1 end
  local i = math.ceil(#sorted * p / 100)
  if i < 1 then i = 1 end
  return sorted[i]
end

function done(summary, latency, requests)
  local total = { ok_steps = 0, errors = 0, completed = 0, finals_sent = 0, started = 0,
                  exhausted = 0, max_index = -1 }
  local all_samples, all_lats = {}, {}
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
    for _, l in ipairs(thread:get("lats") or {}) do all_lats[#all_lats + 1] = l end
  end
  table.sort(all_lats)
  local e = summary.errors
  local fields = {
    string.format('"requests": %d', summary.requests),
    string.format('"duration_us": %d', summary.duration),
    string.format('"bytes": %d', summary.bytes),
    string.format('"socket_errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}',
      e.connect, e.read, e.write, e.status, e.timeout),
    string.format('"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}',
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean),
    string.format('"sched_latency_ms": {"n": %d, "p50": %.3f, "p90": %.3f, "p99": %.3f, "max": %.3f}',
      #all_lats, percentile(all_lats, 50), percentile(all_lats, 90), percentile(all_lats, 99),
      all_lats[#all_lats] or -1),
  }
  for key, value in pairs(total) do
    fields[#fields + 1] = string.format('"%s": %d', key, value)
  end
  local quoted = {}
  for _, s in ipairs(all_samples) do quoted[#quoted + 1] = json_string(s) end
  fields[#fields + 1] = '"samples": [' .. table.concat(quoted, ", ") .. "]"
  io.write("BENCH_JSON {" .. table.concat(fields, ", ") .. "}\n")
end
