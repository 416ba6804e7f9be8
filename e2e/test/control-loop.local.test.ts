import { controlLoopSuite } from "../src/suites/control-loop";
import { embeddedStack } from "../src/stack";

controlLoopSuite("local (embedded, agents over the WS link)", () => embeddedStack({ rate: 20 }));
