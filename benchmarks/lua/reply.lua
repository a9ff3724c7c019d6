-- POST /conversations/{id}/reply: an admin comment on a random existing conversation, by a
-- random admin of the workspace.
-- wrk -s reply.lua URL -- token=T ids=/path/ids.txt admins=2,3,4 [seed=N] [version=2.14]
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local ids, admins, headers
local bodies = {
  "Thanks for reaching out, I am looking into this now.",
  "Could you send us a screenshot of the error?",
  "We have shipped a fix; please try again and let us know.",
  "I have passed this on to the billing team.\nThey will reply within a day.",
}

function init(args)
  local options = common.options(args)
  ids = common.read_ids(assert(options.ids, "ids=... is required"))
  admins = common.split(assert(options.admins, "admins=... is required"))
  headers = common.headers(options)
  headers["Content-Type"] = "application/json"
  math.randomseed(tonumber(options.seed or "1"))
end

local function json_string(text)
  return '"' .. text:gsub('[%c"\\]', function(c)
    if c == "\n" then return "\\n" end
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

function request()
  local body = '{"message_type": "comment", "type": "admin", "admin_id": '
    .. admins[math.random(#admins)] .. ', "body": ' .. json_string(bodies[math.random(#bodies)])
    .. '}'
  return wrk.format("POST", "/conversations/" .. ids[math.random(#ids)] .. "/reply", headers, body)
end

done = common.done
