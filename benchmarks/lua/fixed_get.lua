-- One fixed GET request, e.g. a list page.
-- wrk -s fixed_get.lua URL -- token=T path=/conversations?per_page=20 [version=2.14]
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local prepared

function init(args)
  local options = common.options(args)
  prepared = wrk.format("GET", assert(options.path, "path=... is required"),
                        common.headers(options))
end

function request()
  return prepared
end

done = common.done
