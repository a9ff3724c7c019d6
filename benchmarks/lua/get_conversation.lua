-- GET /conversations/{id} for random existing ids.
-- wrk -s get_conversation.lua URL -- token=T ids=/path/ids.txt [seed=N] [version=2.14]
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local ids, headers

function init(args)
  local options = common.options(args)
  ids = common.read_ids(assert(options.ids, "ids=... is required"))
  headers = common.headers(options)
  math.randomseed(tonumber(options.seed or "1"))
end

function request()
  return wrk.format("GET", "/conversations/" .. ids[math.random(#ids)], headers)
end

done = common.done
