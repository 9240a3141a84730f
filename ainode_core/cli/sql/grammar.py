"""The grammar of ``ainode sql`` (lark, LALR): IoTDB's AINode statements, plus the local SELECT that
``CALL INFERENCE`` runs against a file when no IoTDB is given.

Keywords are case-insensitive; identifiers keep their case (model ids are case-sensitive) and may be quoted
with backticks to use a keyword as a name. Strings take single or double quotes, a doubled quote inside
escapes it (IoTDB's rule). The statements follow IoTDB 2.0's grammars (``IoTDBSqlParser.g4`` for the tree
model, ``RelationalSql.g4`` for the table model)::

    SHOW MODELS [model_id]
    SHOW AI_DEVICES
    SHOW LOADED MODELS ['device,...']
    CREATE MODEL model_id USING URI 'uri'
    CREATE MODEL model_id [WITH HYPERPARAMETERS (key=value, ...)] FROM MODEL base_id
        ON DATASET ('table query or file:// URI' | PATH root.db.** [([start, end))] , ...)
    DROP MODEL model_id
    LOAD MODEL model_id TO DEVICES 'cpu,0'
    UNLOAD MODEL model_id FROM DEVICES 'cpu,0'
    CALL INFERENCE(model_id, "select ...", key=value, ...)

The local SELECT (standalone mode)::

    SELECT * | column, ... FROM 'file.csv' [WHERE time >= A AND time < B ...] [LIMIT n]
"""
from __future__ import annotations

from functools import lru_cache

from lark import Lark

KEYWORDS = (
    "SHOW", "MODELS", "MODEL", "AI_DEVICES", "LOADED", "CREATE", "USING", "URI", "WITH", "HYPERPARAMETERS",
    "FROM", "ON", "DATASET", "PATH", "DROP", "LOAD", "UNLOAD", "TO", "DEVICES", "CALL", "INFERENCE",
    "SELECT", "WHERE", "AND", "LIMIT", "TIME",
)

GRAMMAR = r"""
// ---- AINode statements ------------------------------------------------------------------------------
statement: show_models | show_devices | show_loaded | create_uri | create_tuned
         | drop_model | load_model | unload_model | call_inference

show_models: SHOW MODELS [model_id]
show_devices: SHOW AI_DEVICES
show_loaded: SHOW LOADED MODELS [device_list]
create_uri: CREATE MODEL model_id USING URI string
create_tuned: CREATE MODEL model_id [hyperparameters] FROM MODEL model_id ON DATASET "(" dataset ("," dataset)* ")"
hyperparameters: WITH HYPERPARAMETERS "(" pair ("," pair)* ")"
drop_model: DROP MODEL model_id
load_model: LOAD MODEL model_id TO DEVICES device_list
unload_model: UNLOAD MODEL model_id FROM DEVICES device_list
call_inference: CALL INFERENCE "(" model_id "," string ("," pair)* ")"

dataset: string                                   -> query_dataset
       | PATH (PATH_PATTERN | string) [time_range] -> path_dataset
time_range: "(" "[" time_value "," time_value ")" ")"   -> closed_open
          | "(" "(" time_value "," time_value "]" ")"   -> open_closed

device_list: string | device ("," device)*
?device: IDENTIFIER | INT

pair: IDENTIFIER "=" value
?value: SIGNED_NUMBER -> number
      | string
      | IDENTIFIER    -> word

model_id: IDENTIFIER | QUOTED_ID
string: STRING
?time_value: SIGNED_INT -> epoch_ms
           | DATETIME   -> datetime
           | string     -> datetime

// ---- the local SELECT of CALL INFERENCE ---------------------------------------------------------------
local_select: SELECT columns FROM string [where] [limit]
columns: "*"                      -> all_columns
       | column ("," column)*
?column: IDENTIFIER | QUOTED_ID
where: WHERE condition (AND condition)*
condition: TIME COMPARE time_value  -> time_then_value
         | time_value COMPARE TIME  -> value_then_time
limit: LIMIT INT

// ---- tokens -----------------------------------------------------------------------------------------
SHOW: "SHOW"i
MODELS: "MODELS"i
MODEL: "MODEL"i
AI_DEVICES: "AI_DEVICES"i
LOADED: "LOADED"i
CREATE: "CREATE"i
USING: "USING"i
URI: "URI"i
WITH: "WITH"i
HYPERPARAMETERS: "HYPERPARAMETERS"i
FROM: "FROM"i
ON: "ON"i
DATASET: "DATASET"i
PATH: "PATH"i
DROP: "DROP"i
LOAD: "LOAD"i
UNLOAD: "UNLOAD"i
TO: "TO"i
DEVICES: "DEVICES"i
CALL: "CALL"i
INFERENCE: "INFERENCE"i
SELECT: "SELECT"i
WHERE: "WHERE"i
AND: "AND"i
LIMIT: "LIMIT"i
TIME: "TIME"i

IDENTIFIER: /[a-z_][a-z0-9_]*/i
QUOTED_ID: /`[^`]+`/
STRING: /'(?:[^']|'')*'/ | /"(?:[^"]|"")*"/
PATH_PATTERN: /root(\.(`[^`]+`|[a-z0-9_*\-]+))*/i
DATETIME.2: /\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?/
COMPARE: ">=" | "<=" | ">" | "<" | "="
SIGNED_NUMBER: /[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/
SIGNED_INT: /[+-]?\d+/
INT: /\d+/
COMMENT: /--[^\n]*/

%import common.WS
%ignore WS
%ignore COMMENT
"""


@lru_cache(maxsize=None)
def parser(start: str = "statement") -> Lark:
    """LALR with the contextual lexer: a keyword is a keyword only where the grammar allows one."""
    return Lark(GRAMMAR, start=start, parser="lalr", lexer="contextual", propagate_positions=True,
                maybe_placeholders=True)
