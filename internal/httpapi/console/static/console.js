// nudge console: small behaviours on server-rendered pages. No build step.
"use strict";
