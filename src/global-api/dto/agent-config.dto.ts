import { ApiProperty } from '@nestjs/swagger';
import { ValidateIf } from 'class-validator';
import { DomainError } from '../../common/errors/domain-error';
import { SubjectIdField } from '../../common/http/subject-id.decorator';
import { AccountField } from '../../two-factor/http/config-fields';
import { ConfigListQueryFields, ConfigPageFields, ConfigResponseFields } from '../../two-factor/http/config.dto';

const AGENT_ID = { description: 'The agent', example: 'agent-007' };

export class CreateAgentConfigRequest {
  // Required unless the alias names the agent.
  @ValidateIf((body: CreateAgentConfigRequest) => body.partneruserid === undefined || body.agentid !== undefined)
  @SubjectIdField(AGENT_ID)
  agentid?: string;

  // Not optional: IsOptional skips null too, and `{"partneruserid": null}` then enrolled a user named "null".
  @ValidateIf((body: CreateAgentConfigRequest) => body.partneruserid !== undefined)
  @SubjectIdField({
    required: false,
    deprecated: true,
    description: 'Alias of agentid (seed 002 sends it on this route): send one of the two; if both, they must be equal',
  })
  partneruserid?: string;

  @AccountField()
  account?: string;
}

/** The agent a valid create request names: agentid or its alias; a 400 when both are sent and differ. */
export function agentIdOf(body: CreateAgentConfigRequest): string {
  const { agentid, partneruserid } = body;
  if (agentid !== undefined && partneruserid !== undefined && agentid !== partneruserid) {
    throw DomainError.invalidField('agentid', 'agentid and its alias name different users');
  }
  // Validation requires one of the two.
  return (agentid ?? partneruserid)!;
}

export class ListAgentConfigsQuery extends ConfigListQueryFields {
  @SubjectIdField({ ...AGENT_ID, optional: true })
  agentid?: string;
}

export class AgentConfigResponse extends ConfigResponseFields {
  @ApiProperty({ type: String, ...AGENT_ID })
  agentid!: string;
}

export class AgentConfigPage extends ConfigPageFields {
  @ApiProperty({ type: [AgentConfigResponse] })
  items!: AgentConfigResponse[];
}
